package io.emend.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.emend.trainer.gate.GateThresholds;
import java.util.List;

/**
 * {@code POST /v1/fine-tunes}: OpenAI's fine-tuning job shape where it fits ({@code model}, {@code training_file},
 * {@code validation_file}, {@code hyperparameters}), plus Emend's method, LoRA shape, anti-forgetting options, gate
 * and output. Fields are snake_case on the wire; absent ones take the defaults {@link TrainingRequests#normalize}
 * documents, and the stored request has them filled in.
 *
 * @param model          registry reference of the parent: {@code name}, {@code name@alias} or {@code name:N}
 * @param trainingFile   JSONL: an object-store key ({@code datasets/x/train.jsonl}) or a registry blob digest
 *                       ({@code sha256:<hex>})
 * @param trainingFiles  several training files, concatenated (what a retraining policy sends); instead of
 *                       {@code trainingFile}
 * @param validationFile JSONL held out for validation loss and the gate's perplexity; absent: a seeded split of the
 *                       training data
 * @param method         {@code lora}, {@code dora} or {@code full}
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FineTuneRequest(String model, String trainingFile, List<String> trainingFiles, String validationFile,
                              Long seed, Hyperparameters hyperparameters, String method, Lora lora,
                              Forgetting forgetting, GateThresholds gate, Output output) {

    /**
     * @param nEpochs                passes over the training data (when {@code steps} is 0)
     * @param learningRateMultiplier times the method's base rate: 2e-4 for LoRA/DoRA, 5e-5 for full
     * @param steps                  optimizer steps; 0 = {@code n_epochs} passes
     * @param checkpointEvery        steps between checkpoints (each listed by {@code GET .../checkpoints})
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Hyperparameters(Integer nEpochs, Integer batchSize, Double learningRateMultiplier, Integer steps,
                                  Integer seqLen, Integer warmupSteps, Integer gradientAccumulation,
                                  Integer checkpointEvery, Double heldOutFraction) {
    }

    /** The adapter's shape (LoRA and DoRA). */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Lora(Integer rank, Double alpha, Double dropout, List<String> targetModules) {
    }

    /**
     * What keeps the model from forgetting.
     *
     * @param replayFraction share of training rows drawn from earlier data ({@code replay_files}, or for a
     *                       retraining policy the model's earlier datasets)
     * @param replayFiles    earlier JSONL data, keys or digests like {@code training_file}
     * @param l2sp           weight of the L2-SP penalty toward the parent
     * @param hft            half fine-tuning: freeze a seeded random half of the blocks
     * @param orthogonality  weight of O-LoRA's penalty against the adapters already in the lineage
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Forgetting(Double replayFraction, List<String> replayFiles, Double l2sp, Boolean hft,
                             Double orthogonality) {
    }

    /** Where the result goes: a model (default: the parent's) and an alias to move when the gate passes. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Output(String model, String alias) {
    }
}
