package io.emend.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.graph.Constant;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.train.data.PackedSequence;
import io.emend.core.train.data.SequenceBatch;
import io.emend.core.train.data.SequenceOrder;
import io.emend.core.train.lora.AdapterParameters;
import io.emend.core.train.optim.AdamW;
import io.emend.core.train.optim.GradientClipping;
import io.emend.core.train.optim.LearningRateSchedule;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One fine-tune of a loaded model: the training loop, evaluation before and after, checkpoints and resume.
 *
 * <p>Each optimizer step runs {@code gradientAccumulation} micro-batches. Each micro-batch's forward and backward run
 * in a sub-manager of the job's scope inside a gradient collector; its loss is its summed NLL divided by the step's
 * total target tokens, so accumulated gradients equal those of one big batch. Penalties (L2-SP
 * {@code λ/2·‖ΔW‖²}, O-LoRA {@code λ·Σ‖A·A_oldᵀ‖²}) are added once per step. Gradients are then read onto the heap,
 * checked (a NaN or infinite loss or gradient stops the run with the step number), clipped by global norm, and
 * AdamW updates the values, which are written back outside the collector.
 *
 * <p>Reproducibility: initial values, data order, held-out split, replay sampling and HFT's choice all come from the
 * seed; the optimizer runs on the heap in a fixed order. Same seed, data, config and thread count give the same
 * weights, and a resumed run equals an uninterrupted one.
 *
 * <p>DJL allows one gradient collector per JVM at a time, so one job trains at a time per process.
 */
public final class FineTuneJob implements AutoCloseable {

    private final Transformer model;
    private final FineTuneConfig config;
    private final TrainingData data;
    private final TrainableParameters parameters;
    private final NDManager scope = NDManager.newBaseManager();
    private final Map<String, List<WeightDelta>> priorDeltas;
    private final AdamW optimizer;
    private final SequenceOrder order;
    private final LearningRateSchedule schedule;
    private final int totalSteps;
    private final String fingerprint;
    private final Deque<Double> recentLosses = new ArrayDeque<>();
    private int step;

    /**
     * @param priorAdapters adapters already in the lineage: applied (frozen) on top of the base, so the parent is
     *                      base plus them, and used by O-LoRA's penalty
     */
    public FineTuneJob(Transformer model, TrainingData data, FineTuneConfig config, List<LoraDeltas> priorAdapters) {
        this.model = model;
        this.config = config;
        this.data = data;
        if (config.forgetting().orthogonality() > 0 && (config.method() == Method.FULL || priorAdapters.isEmpty())) {
            throw new IllegalArgumentException("O-LoRA needs the LoRA or DoRA method and at least one prior adapter");
        }
        this.parameters = switch (config.method()) {
            case LORA, DORA -> new AdapterParameters(model, config.rank(), config.alpha(),
                    config.method() == Method.DORA, config.loraDropout(), config.targetModules(),
                    config.forgetting().halfFineTuning(), config.seed(), priorAdapters);
            case FULL -> new FullParameters(model, config);
        };
        Map<String, List<WeightDelta>> priors = new LinkedHashMap<>();
        try {
            for (LoraDeltas p : priorAdapters) {
                p.weightDeltas(scope, model).forEach((k, v) -> priors.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.priorDeltas = priors;
        this.optimizer = AdamW.withWeightDecay(config.weightDecay());
        this.order = new SequenceOrder(data.train(), config.seed());
        int rowsPerStep = config.batchSize() * config.gradientAccumulation();
        this.totalSteps = config.steps() > 0 ? config.steps()
                : Math.max(1, (int) Math.ceil((double) config.epochs() * data.train().size() / rowsPerStep));
        this.schedule = new LearningRateSchedule(config.learningRate(), Math.min(config.warmupSteps(), totalSteps - 1),
                totalSteps);
        this.fingerprint = fingerprint(config, data, priorAdapters.size());
    }

    /**
     * SHA-256 of the config's text, the training tokens and the number of prior adapters. Built from values only,
     * never from {@code hashCode()} (an enum's is its identity hash, different in every JVM), so a job resumed in
     * another process or on another node recognises its own checkpoints.
     */
    static String fingerprint(FineTuneConfig config, TrainingData data, int priors) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        sha.update(config.withCheckpointEvery(0).toString().getBytes(StandardCharsets.UTF_8));
        ByteBuffer word = ByteBuffer.allocate(Integer.BYTES);
        for (PackedSequence s : data.train()) {
            for (int t : s.tokens()) {
                sha.update(word.clear().putInt(t).array());
            }
            sha.update(word.clear().putInt(-1).array());
        }
        sha.update(word.clear().putInt(priors).array());
        return HexFormat.of().formatHex(sha.digest(), 0, 16);
    }

    public int totalSteps() {
        return totalSteps;
    }

    /** Steps done so far. */
    public int step() {
        return step;
    }

    public TrainableParameters parameters() {
        return parameters;
    }

    /**
     * Continues from the latest checkpoint under {@code dir}, if there is one.
     *
     * @return the step resumed at, empty when there was no checkpoint
     * @throws IllegalArgumentException when the checkpoint was made with another config or other data
     */
    public Optional<Integer> resumeFrom(Path dir) throws IOException {
        Optional<TrainingCheckpoint> c = TrainingCheckpoint.latest(dir);
        if (c.isEmpty()) {
            return Optional.empty();
        }
        TrainingCheckpoint cp = c.get();
        if (!cp.fingerprint().equals(fingerprint)) {
            throw new IllegalArgumentException("checkpoint at step " + cp.step() + " in " + dir
                    + " was made with other settings or data; resume with the same ones or start in a new directory");
        }
        parameters.load(cp.values());
        optimizer.restore(cp.first(), cp.second(), cp.step());
        step = cp.step();
        return Optional.of(step);
    }

    /** Trains until {@link #totalSteps()} (all of them, or what is left after a resume). */
    public FineTuneMetrics run(Optional<Path> checkpointDir, java.util.function.Consumer<StepReport> listener)
            throws IOException {
        return run(checkpointDir, listener, totalSteps);
    }

    /** Trains up to step {@code stopAt} (exclusive of later ones), as a job that is stopped and resumed later would. */
    public FineTuneMetrics run(Optional<Path> checkpointDir, java.util.function.Consumer<StepReport> listener,
                               int stopAt) throws IOException {
        double heldBefore = evaluate(data.heldOut(), false);
        double retentionBefore = evaluate(data.replayHeldOut(), false);
        long started = System.nanoTime();
        long tokens = 0;
        int first = step;
        while (step < Math.min(stopAt, totalSteps)) {
            long t = trainStep();
            tokens += t;
            listener.accept(new StepReport(step, totalSteps, recentLosses.peekLast(), schedule.at(step - 1),
                    lastGradientNorm, t, System.nanoTime() - started, step - first));
            if (checkpointDir.isPresent() && config.checkpointEvery() > 0
                    && (step % config.checkpointEvery() == 0 || step == totalSteps)) {
                checkpoint().write(checkpointDir.get());
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        double trainLoss = recentLosses.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        return new FineTuneMetrics(step, trainLoss, heldBefore, evaluate(data.heldOut(), true), retentionBefore,
                evaluate(data.replayHeldOut(), true), tokens, seconds > 0 ? tokens / seconds : 0);
    }

    private double lastGradientNorm;

    /** The current state as a checkpoint. */
    public TrainingCheckpoint checkpoint() {
        return new TrainingCheckpoint(step, fingerprint, parameters.values(), optimizer.firstMoments(),
                optimizer.secondMoments(), recentLosses.isEmpty() ? Double.NaN : recentLosses.peekLast());
    }

    /** One optimizer step; returns the tokens read. */
    private long trainStep() {
        int reportStep = step + 1;
        List<SequenceBatch> micro = new ArrayList<>();
        int targets = 0;
        long tokens = 0;
        for (int m = 0; m < config.gradientAccumulation(); m++) {
            long firstRow = ((long) step * config.gradientAccumulation() + m) * config.batchSize();
            SequenceBatch b = SequenceBatch.of(order.slice(firstRow, config.batchSize()));
            micro.add(b);
            targets += b.targets();
            tokens += b.tokens();
        }
        double nll = 0;
        for (int m = 0; m < micro.size(); m++) {
            SequenceBatch b = micro.get(m);
            if (config.loraDropout() > 0) {
                // dropout masks come from PyTorch's generator: seeding it from (seed, step, micro-batch) makes them a
                // function of the data position, so a resumed run draws the masks an uninterrupted one would
                Engine.getInstance().setRandomSeed(dropoutSeed(config.seed(), step, m));
            }
            try (NDManager s = scope.newSubManager();
                 GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                ForwardOptions options = ForwardOptions.defaults().withDeltas(priorDeltas)
                        .withDeltas(parameters.trainingDeltas(s));
                NDArray sum = summedNll(s, model.forward(s, b.inputs(), options).logits(), b);
                NDArray loss = sum.div(Constant.of(sum, Math.max(1, targets)));
                if (m == 0) {
                    loss = addPenalties(s, loss);
                }
                float value = sum.getFloat();
                if (!Float.isFinite(value) || !Float.isFinite(loss.getFloat())) {
                    throw new TrainingDiverged(reportStep, "the loss is " + (Float.isFinite(value) ? loss.getFloat() : value));
                }
                nll += value;
                gc.backward(loss);
            }
        }
        Map<String, float[]> gradients = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : parameters.arrays().entrySet()) {
            try (NDArray g = e.getValue().getGradient()) {
                float[] v = g.toFloatArray();
                for (float x : v) {
                    if (!Float.isFinite(x)) {
                        throw new TrainingDiverged(reportStep, "the gradient of " + e.getKey() + " is not finite");
                    }
                }
                gradients.put(e.getKey(), v);
                g.muli(0); // PyTorch accumulates into .grad; the next step starts from zero
            }
        }
        lastGradientNorm = GradientClipping.clip(gradients, config.maxGradNorm());
        Map<String, float[]> values = parameters.values();
        optimizer.step(values, gradients, schedule.at(step));
        parameters.load(values);
        step++;
        recentLosses.addLast(nll / Math.max(1, targets));
        if (recentLosses.size() > 10) {
            recentLosses.removeFirst();
        }
        return tokens;
    }

    /** A seed for micro-batch {@code micro} of step {@code step}: splitmix64 of the three, folded to DJL's int. */
    static int dropoutSeed(long seed, int step, int micro) {
        long z = seed + 0x9E3779B97F4A7C15L * (1 + ((long) step << 16 | micro));
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (int) (z ^ (z >>> 32));
    }

    private NDArray addPenalties(NDManager s, NDArray loss) {
        FineTuneConfig.Forgetting f = config.forgetting();
        if (f.l2sp() > 0) {
            loss = loss.add(parameters.squaredDistanceFromParent(s).mul(Constant.of(loss, f.l2sp() / 2)));
        }
        if (f.orthogonality() > 0) {
            loss = loss.add(parameters.overlapWithPrior(s).mul(Constant.of(loss, f.orthogonality())));
        }
        return loss;
    }

    /** Σ over weighted positions of -log p(label): logits [B, T, V], a scalar in {@code s}. */
    static NDArray summedNll(NDManager s, NDArray logits, SequenceBatch b) {
        int rows = b.inputs().batchSize();
        int length = b.inputs().length();
        NDArray labels = s.create(b.labels(), new Shape(rows, length, 1));
        NDArray weights = s.create(b.weights(), new Shape(rows, length, 1));
        return logits.logSoftmax(2).gather(labels, 2).mul(weights).sum().neg();
    }

    /**
     * Mean next-token NLL over the rows' target tokens, without gradients.
     *
     * @param trained with the trained deltas (the result), or without (the parent)
     * @return NaN when there are no rows
     */
    public double evaluate(List<PackedSequence> rows, boolean trained) {
        if (rows.isEmpty()) {
            return Double.NaN;
        }
        double nll = 0;
        long count = 0;
        for (int from = 0; from < rows.size(); from += config.batchSize()) {
            SequenceBatch b = SequenceBatch.of(rows.subList(from, Math.min(rows.size(), from + config.batchSize())));
            try (NDManager s = scope.newSubManager()) {
                ForwardOptions options = ForwardOptions.defaults().withDeltas(priorDeltas);
                if (trained) {
                    options = options.withDeltas(parameters.deltas(s));
                }
                nll += summedNll(s, model.forward(s, b.inputs(), options).logits(), b).getFloat();
                count += b.targets();
            }
        }
        return nll / count;
    }

    /** The trained adapter in PEFT's layout (LoRA and DoRA only). */
    public LoraDeltas adapter(String baseModel) {
        if (!(parameters instanceof AdapterParameters a)) {
            throw new IllegalStateException("full fine-tuning produces a full model, not an adapter");
        }
        return a.toLoraDelta(baseModel);
    }

    /** Writes the base with every delta (prior adapters and the trained one) folded in, as a Hugging Face directory. */
    public void writeMerged(Path baseDir, Path outDir) throws IOException {
        try (NDManager s = scope.newSubManager()) {
            Map<String, List<WeightDelta>> all = new LinkedHashMap<>();
            priorDeltas.forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
            parameters.deltas(s).forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
            MergedModel.write(model, all, baseDir, outDir);
        }
    }

    @Override
    public void close() {
        if (parameters != null) {
            parameters.close();
        }
        scope.close();
    }
}
