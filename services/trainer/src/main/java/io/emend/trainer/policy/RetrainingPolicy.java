package io.emend.trainer.policy;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.emend.trainer.gate.GateThresholds;
import io.emend.trainer.job.FineTuneRequest;
import java.util.List;

/**
 * When new data for a model lands, whether and how to fine-tune it: which {@code dataset.landed} deliveries count
 * ({@code datasets}: names or globs such as {@code support-*}; empty: every dataset of the model), how many new
 * examples must have gathered before a job starts, the recipe, the share of the model's earlier datasets to replay,
 * the gate, and the alias a passing version takes.
 *
 * <p>{@code dataset.landed} carries a dataset's name but no tags, so policies match by name.
 *
 * @param model          the registry model; jobs fine-tune {@code model@alias} when that alias exists, else the
 *                       model's latest ready version, and register into the same model
 * @param minNewExamples examples (non-blank JSONL lines) that must have landed since the policy's last job
 * @param replayFraction share of training rows drawn from the model's earlier datasets (the replay buffer)
 * @param alias          moved to the new version when the gate passes; null: none
 * @param enabled        a disabled policy records deliveries but starts no job
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RetrainingPolicy(String id, String model, List<String> datasets, Integer minNewExamples, Recipe recipe,
                               Double replayFraction, GateThresholds gate, String alias, Boolean enabled,
                               Long createdAt, Long updatedAt) {

    /**
     * The fine-tune's settings: a {@code POST /v1/fine-tunes} body without model, files and output.
     *
     * @param forgetting L2-SP, HFT and O-LoRA; the replay files come from the buffer
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Recipe(String method, Long seed, FineTuneRequest.Hyperparameters hyperparameters,
                         FineTuneRequest.Lora lora, Forgetting forgetting) {
    }

    /** The penalties and freezing of {@link FineTuneRequest.Forgetting}; replay is the policy's own. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Forgetting(Double l2sp, Boolean hft, Double orthogonality) {
    }

    /** Whether a delivery of {@code dataset} counts for this policy. */
    public boolean matches(String dataset) {
        if (datasets == null || datasets.isEmpty()) {
            return true;
        }
        for (String glob : datasets) {
            String regex = "\\Q" + glob.replace("*", "\\E.*\\Q") + "\\E";
            if (dataset.matches(regex)) {
                return true;
            }
        }
        return false;
    }
}
