package io.emend.core.train;

import java.util.List;

/**
 * Everything that decides a fine-tune's result. Two runs with equal configs, data and thread count produce the same
 * weights.
 *
 * @param method               LoRA, DoRA or full fine-tuning
 * @param rank                 LoRA rank r
 * @param alpha                LoRA alpha; the adapter is scaled by alpha / r
 * @param targetModules        module names to adapt ({@code q_proj}, {@code c_attn}, ...); empty = the family's default
 * @param learningRate         peak learning rate
 * @param weightDecay          AdamW's decoupled weight decay
 * @param warmupSteps          linear warmup steps
 * @param steps                optimizer steps; 0 = {@code epochs} passes over the training rows
 * @param epochs               passes over the data when {@code steps} is 0
 * @param batchSize            rows per micro-batch
 * @param gradientAccumulation micro-batches per optimizer step
 * @param seqLen               tokens per packed row
 * @param maxGradNorm          global-norm clipping threshold; ≤ 0 turns clipping off
 * @param seed                 fixes initialization, the held-out split, the data order, replay sampling and HFT's choice
 * @param heldOutFraction      share of examples held out for evaluation
 * @param checkpointEvery      steps between checkpoints; 0 = none
 * @param forgetting           the anti-forgetting options
 * @param loraDropout          LoRA dropout p on each adapter's input during training (PEFT's {@code lora_dropout}); 0 =
 *                             off. Plain LoRA only: DoRA's adapter is applied as a dense change to the weight, where an
 *                             input-side dropout has nothing to act on
 */
public record FineTuneConfig(
        Method method,
        int rank,
        double alpha,
        List<String> targetModules,
        double learningRate,
        double weightDecay,
        int warmupSteps,
        int steps,
        int epochs,
        int batchSize,
        int gradientAccumulation,
        int seqLen,
        double maxGradNorm,
        long seed,
        double heldOutFraction,
        int checkpointEvery,
        Forgetting forgetting,
        double loraDropout) {

    public FineTuneConfig {
        targetModules = List.copyOf(targetModules);
        require(rank > 0, "rank must be positive, got " + rank);
        require(alpha > 0 && Double.isFinite(alpha), "alpha must be positive, got " + alpha);
        require(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be positive, got " + learningRate);
        require(weightDecay >= 0, "weight decay must be non-negative, got " + weightDecay);
        require(warmupSteps >= 0, "warmup steps must be non-negative, got " + warmupSteps);
        require(steps >= 0, "steps must be non-negative, got " + steps);
        require(steps > 0 || epochs > 0, "give a positive number of steps or epochs");
        require(batchSize > 0, "batch size must be positive, got " + batchSize);
        require(gradientAccumulation > 0, "gradient accumulation must be positive, got " + gradientAccumulation);
        require(seqLen >= 1, "sequence length must be positive, got " + seqLen);
        require(heldOutFraction >= 0 && heldOutFraction < 1, "held-out fraction must be in [0, 1), got " + heldOutFraction);
        require(checkpointEvery >= 0, "checkpoint interval must be non-negative, got " + checkpointEvery);
        require(loraDropout >= 0 && loraDropout < 1, "LoRA dropout must be in [0, 1), got " + loraDropout);
        require(loraDropout == 0 || method == Method.LORA,
                "LoRA dropout applies to the lora method only, not to " + method);
        if (forgetting == null) {
            forgetting = Forgetting.none();
        }
    }

    /** A config without LoRA dropout. */
    public FineTuneConfig(Method method, int rank, double alpha, List<String> targetModules, double learningRate,
                          double weightDecay, int warmupSteps, int steps, int epochs, int batchSize,
                          int gradientAccumulation, int seqLen, double maxGradNorm, long seed, double heldOutFraction,
                          int checkpointEvery, Forgetting forgetting) {
        this(method, rank, alpha, targetModules, learningRate, weightDecay, warmupSteps, steps, epochs, batchSize,
                gradientAccumulation, seqLen, maxGradNorm, seed, heldOutFraction, checkpointEvery, forgetting, 0);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** LoRA r=8, alpha=16 on the default targets, lr 2e-4, 3 warmup steps... the usual small-run defaults. */
    public static FineTuneConfig defaults(Method method, int steps) {
        return new FineTuneConfig(method, 8, 16, List.of(), method == Method.FULL ? 5e-5 : 2e-4, 0.0,
                Math.min(10, steps / 10), steps, 0, 4, 1, 128, 1.0, 42, 0.1, 0, Forgetting.none());
    }

    public FineTuneConfig withSteps(int s) {
        return new FineTuneConfig(method, rank, alpha, targetModules, learningRate, weightDecay, warmupSteps, s, epochs,
                batchSize, gradientAccumulation, seqLen, maxGradNorm, seed, heldOutFraction, checkpointEvery,
                forgetting, loraDropout);
    }

    public FineTuneConfig withCheckpointEvery(int every) {
        return new FineTuneConfig(method, rank, alpha, targetModules, learningRate, weightDecay, warmupSteps, steps,
                epochs, batchSize, gradientAccumulation, seqLen, maxGradNorm, seed, heldOutFraction, every, forgetting,
                loraDropout);
    }

    public FineTuneConfig withForgetting(Forgetting f) {
        return new FineTuneConfig(method, rank, alpha, targetModules, learningRate, weightDecay, warmupSteps, steps,
                epochs, batchSize, gradientAccumulation, seqLen, maxGradNorm, seed, heldOutFraction, checkpointEvery, f,
                loraDropout);
    }

    public FineTuneConfig withLoraDropout(double p) {
        return new FineTuneConfig(method, rank, alpha, targetModules, learningRate, weightDecay, warmupSteps, steps,
                epochs, batchSize, gradientAccumulation, seqLen, maxGradNorm, seed, heldOutFraction, checkpointEvery,
                forgetting, p);
    }

    public FineTuneConfig withShape(int batch, int seq, double lr, int warmup) {
        return new FineTuneConfig(method, rank, alpha, targetModules, lr, weightDecay, warmup, steps, epochs, batch,
                gradientAccumulation, seq, maxGradNorm, seed, heldOutFraction, checkpointEvery, forgetting,
                loraDropout);
    }

    /**
     * The options that keep what the model knew.
     *
     * @param l2sp           weight of the L2-SP penalty {@code λ/2·‖W - W_parent‖²} over the adapted weights (0 = off)
     * @param replayFraction share of training rows drawn from the replay files (0 = off)
     * @param halfFineTuning freeze a seeded random half of the parameter blocks (adapter modules, or tensors for full)
     * @param orthogonality  weight of O-LoRA's penalty {@code λ·Σ‖A_new·A_oldᵀ‖²} against the prior adapters (0 = off)
     */
    public record Forgetting(double l2sp, double replayFraction, boolean halfFineTuning, double orthogonality) {

        public Forgetting {
            require(l2sp >= 0 && Double.isFinite(l2sp), "L2-SP weight must be non-negative, got " + l2sp);
            require(replayFraction >= 0 && replayFraction < 1, "replay fraction must be in [0, 1), got " + replayFraction);
            require(orthogonality >= 0 && Double.isFinite(orthogonality),
                    "O-LoRA weight must be non-negative, got " + orthogonality);
        }

        public static Forgetting none() {
            return new Forgetting(0, 0, false, 0);
        }
    }
}
