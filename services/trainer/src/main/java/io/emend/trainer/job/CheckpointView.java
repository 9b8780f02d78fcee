package io.emend.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One entry of {@code GET /v1/fine-tunes/{id}/checkpoints}, shaped like OpenAI's checkpoint object with the losses at
 * the top level.
 *
 * @param stepNumber     optimizer steps done when it was written
 * @param trainLoss      mean training loss of the last steps
 * @param validationLoss mean NLL on the held-out (validation) rows at that step; absent without held-out data
 * @param createdAt      unix seconds
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointView(String id, String fineTuningJobId, int stepNumber, Double trainLoss,
                             Double validationLoss, long createdAt) {

    @JsonProperty("object")
    public String object() {
        return "fine_tuning.job.checkpoint";
    }

    /** A page of checkpoints, newest first. */
    public record Page(java.util.List<CheckpointView> data) {
        @JsonProperty("object")
        public String object() {
            return "list";
        }
    }
}
