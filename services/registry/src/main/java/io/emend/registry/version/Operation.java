package io.emend.registry.version;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** The transform that produced a version from its parents (none for an import). */
public enum Operation {
    IMPORT, FINETUNE, EDIT, MERGE, QUANTIZE;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Operation of(String wire) {
        return Arrays.stream(values()).filter(o -> o.wire().equals(wire)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown operation '" + wire + "', expected one of "
                        + Arrays.toString(values()).toLowerCase(Locale.ROOT)));
    }
}
