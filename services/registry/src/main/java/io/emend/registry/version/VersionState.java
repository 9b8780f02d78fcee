package io.emend.registry.version;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * The life of a version: it is created {@code pending}, turns {@code ready} once every artifact is verified or
 * {@code failed} when its producer gives up, and any of them can be {@code archived}. Archived is final.
 */
public enum VersionState {
    PENDING, READY, FAILED, ARCHIVED;

    public boolean canMoveTo(VersionState target) {
        return switch (this) {
            case PENDING -> Set.of(READY, FAILED, ARCHIVED).contains(target);
            case READY, FAILED -> target == ARCHIVED;
            case ARCHIVED -> false;
        };
    }

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static VersionState of(String wire) {
        return Arrays.stream(values()).filter(s -> s.wire().equals(wire)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "unknown state '" + wire + "', expected one of " + Arrays.toString(values()).toLowerCase(Locale.ROOT)));
    }
}
