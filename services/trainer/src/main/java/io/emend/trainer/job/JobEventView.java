package io.emend.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Locale;

/**
 * One entry of {@code GET /v1/fine-tunes/{id}/events}, shaped like OpenAI's {@code fine_tuning.job.event}.
 *
 * @param createdAt unix seconds
 * @param type      {@code message} (state changes, the gate) or {@code metrics} (a step or checkpoint, figures in data)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobEventView(String id, long createdAt, Level level, String type, String message, JsonNode data) {

    @JsonProperty("object")
    public String object() {
        return "fine_tuning.job.event";
    }

    public enum Level {
        INFO, WARN, ERROR;

        @JsonValue
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Level of(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }

    /** A page of events, oldest first. */
    public record Page(java.util.List<JobEventView> data) {
        @JsonProperty("object")
        public String object() {
            return "list";
        }
    }
}
