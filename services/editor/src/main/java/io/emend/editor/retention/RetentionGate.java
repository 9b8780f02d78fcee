package io.emend.editor.retention;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Optional;

/**
 * The gate a descendant of an edited version passes before an alias moves to it: its measured retention of the
 * edits it inherited is at least {@code minRetention}. A version with no retention figures fails: either the check
 * has not run yet, or nothing could be measured, and neither is evidence the edits survived.
 */
public record RetentionGate(double minRetention) {

    public RetentionGate {
        if (!(minRetention >= 0 && minRetention <= 1)) {
            throw new IllegalArgumentException("minRetention must be a fraction between 0 and 1, got " + minRetention);
        }
    }

    /** Why the version's metrics keep the alias where it is; empty when they pass. */
    public Optional<String> failure(String version, JsonNode metrics) {
        JsonNode rate = metrics == null ? null : metrics.path("retention").get("rate");
        if (rate == null || !rate.isNumber()) {
            return Optional.of(version + " has no measured retention yet (the editor measures it when the version"
                    + " turns ready and a parent of it has live edits)");
        }
        if (rate.asDouble() < minRetention) {
            return Optional.of(String.format(Locale.ROOT, "%s keeps %.4f of its inherited edits (%d of %d), below the"
                            + " gate's %.4f", version, rate.asDouble(), metrics.path("retention").path("held").asInt(),
                    metrics.path("retention").path("edits").asInt(), minRetention));
        }
        return Optional.empty();
    }
}
