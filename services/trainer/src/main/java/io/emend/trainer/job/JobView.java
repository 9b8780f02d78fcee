package io.emend.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.emend.service.job.JobState;
import java.util.List;

/**
 * A fine-tuning job on the wire (REST answers and SSE events), shaped like OpenAI's {@code fine_tuning.job}:
 * {@code status} is the state, {@code model} the reference as asked, {@code fine_tuned_model} the registry version
 * made ({@code name:N}); Emend adds the pinned {@code parent}, progress, the steps, the data digests, the figures and
 * the gate.
 *
 * @param createdAt  unix seconds
 * @param finishedAt unix seconds, once it ended
 * @param error      why it failed, when it did
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobView(String id, JobState status, String model, String parent, String fineTunedModel,
                      FineTuneRequest.Output output, String trainingFile, List<String> trainingFiles,
                      String validationFile, String method, FineTuneRequest.Hyperparameters hyperparameters,
                      double progress, String message, int step, Integer totalSteps, List<DataFile> files,
                      TrainingResult result, Error error, String policyId, long createdAt, Long updatedAt,
                      Long finishedAt) {

    @JsonProperty("object")
    public String object() {
        return "fine_tuning.job";
    }

    /** OpenAI's error object; {@code param} names the field at fault when there is one. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Error(String code, String message, String param) {
    }

    public static JobView of(TrainingJob job) {
        FineTuneRequest r = job.request();
        Error error = job.state() == JobState.FAILED ? new Error("job_failed", job.message(), null) : null;
        return new JobView(job.id(), job.state(), r.model(), job.parentRef(),
                job.versionNumber() == null ? null : job.model() + ":" + job.versionNumber(),
                new FineTuneRequest.Output(job.model(), job.alias()), r.trainingFile(), r.trainingFiles(),
                r.validationFile(), r.method(), r.hyperparameters(), job.progress(), job.message(), job.step(),
                job.totalSteps(), job.files().isEmpty() ? null : job.files(), job.result(), error, job.policyId(),
                job.createdAt().getEpochSecond(), job.updatedAt() == null ? null : job.updatedAt().getEpochSecond(),
                job.state().terminal() && job.updatedAt() != null ? job.updatedAt().getEpochSecond() : null);
    }

    /** A page of jobs, newest first. */
    public record Page(List<JobView> data) {
        @JsonProperty("object")
        public String object() {
            return "list";
        }
    }
}
