package io.emend.registry.version;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** What a parent is to its child: the base it was trained on, the model an adapter belongs to, a merge input... */
public enum ParentRole {
    BASE("base"),
    ADAPTER_OF("adapter-of"),
    MERGED_FROM("merged-from"),
    EDITED_FROM("edited-from"),
    QUANTIZED_FROM("quantized-from");

    private final String wire;

    ParentRole(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static ParentRole of(String wire) {
        return Arrays.stream(values()).filter(r -> r.wire.equals(wire)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown role '" + wire + "', expected one of "
                        + Arrays.stream(values()).map(ParentRole::wire).collect(Collectors.joining(", "))));
    }
}
