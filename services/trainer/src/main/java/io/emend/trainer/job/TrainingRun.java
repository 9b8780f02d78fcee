package io.emend.trainer.job;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.FineTuneMetrics;
import io.emend.core.train.Method;
import io.emend.core.train.StepReport;
import io.emend.core.train.TrainingData;
import io.emend.core.train.data.HeldOutSplit;
import io.emend.core.train.data.JsonlDataset;
import io.emend.core.train.data.PackedSequence;
import io.emend.core.train.data.Packing;
import io.emend.core.train.data.TrainingExample;
import io.emend.core.train.forgetting.Replay;
import io.emend.core.train.lora.LoraTargets;
import io.emend.trainer.gate.GateFigures;
import io.emend.trainer.gate.NegativeFlips;
import io.emend.trainer.gate.Probe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One fine-tune in this process on core's graph: load the parent (base plus its adapters), read the data, train with
 * checkpoints, measure the gate's figures, write the result (a PEFT adapter, or a full model for {@code full}).
 *
 * <p>Checkpoints are written here, after each step the interval names, rather than by core, so that a pause can write
 * one at any step and the checkpoint row is recorded only once its files are in place. DJL allows one gradient
 * collector per JVM, so the runner calls this from one thread.
 */
final class TrainingRun {

    /** Asks the run to stop between steps. */
    interface Control {
        boolean pauseRequested();

        boolean cancelRequested();
    }

    /** Hears about steps and checkpoints. */
    interface Listener {
        void resumed(int step, int totalSteps);

        void step(StepReport report);

        void checkpoint(int step, Double trainLoss, Double validationLoss);
    }

    /** Thrown out of the step loop when a pause was asked for; the checkpoint at {@code step} is on disk. */
    static final class Paused extends RuntimeException {
        final int step;

        Paused(int step) {
            super("paused at step " + step, null, false, false);
            this.step = step;
        }
    }

    /** Thrown out of the step loop when a cancel was asked for. */
    static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    /**
     * What a finished run produced.
     *
     * @param outputDir the adapter (or full model) files
     */
    record Outcome(Path outputDir, TrainingMetrics metrics, GateFigures figures, int totalSteps) {
    }

    /** The files a run reads, all local and verified. */
    record Inputs(ParentModel parent, List<Path> training, Path validation, List<Path> replay, Path retention,
                  Path probes) {
    }

    private TrainingRun() {
    }

    /**
     * Checks what can only be checked against the model: the target modules name projections it has, every JSONL line
     * parses, the probe set is well formed, and replay has data when asked for.
     *
     * @throws IllegalArgumentException with a message naming the file and line, or the valid target modules
     */
    static void validate(Inputs in, FineTuneConfig config) throws IOException {
        try (Tokenizer tokenizer = Tokenizer.load(in.parent().baseDir());
                Transformer model = Transformer.open(in.parent().baseDir(), Optional.empty())) {
            if (config.method() != Method.FULL) {
                LoraTargets.resolve(model, config.targetModules());
            }
            data(tokenizer, in, config);
            if (in.probes() != null) {
                Probe.read(in.probes(), tokenizer);
            }
        }
    }

    static Outcome run(Inputs in, FineTuneConfig config, Path checkpointDir, Path outputDir, Control control,
                       Listener listener) throws IOException {
        try (Tokenizer tokenizer = Tokenizer.load(in.parent().baseDir());
                Transformer model = Transformer.open(in.parent().baseDir(), Optional.empty())) {
            TrainingData data = data(tokenizer, in, config);
            List<LoraDeltas> priors = in.parent().adapters();
            try (FineTuneJob job = new FineTuneJob(model, data, config, priors)) {
                Optional<Integer> resumed = job.resumeFrom(checkpointDir);
                resumed.ifPresent(step -> listener.resumed(step, job.totalSteps()));
                int every = Math.max(1, config.checkpointEvery());
                FineTuneMetrics metrics = job.run(Optional.empty(), report -> {
                    listener.step(report);
                    boolean due = report.step() % every == 0 || report.step() == report.totalSteps();
                    boolean pause = control.pauseRequested() && report.step() < report.totalSteps();
                    if (due || pause) {
                        try {
                            job.checkpoint().write(checkpointDir);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException("cannot write the checkpoint at step "
                                    + report.step(), e);
                        }
                        double validation = job.evaluate(data.heldOut(), true);
                        listener.checkpoint(report.step(), TrainingMetrics.finite(report.loss()),
                                TrainingMetrics.finite(validation));
                    }
                    if (control.cancelRequested()) {
                        throw new Cancelled();
                    }
                    if (pause) {
                        throw new Paused(report.step());
                    }
                });
                GateFigures figures = figures(metrics, model, tokenizer, job, priors, in.probes());
                Files.createDirectories(outputDir);
                if (config.method() == Method.FULL) {
                    job.writeMerged(in.parent().baseDir(), outputDir);
                } else {
                    job.adapter(in.parent().baseRef()).write(outputDir);
                }
                return new Outcome(outputDir, TrainingMetrics.of(metrics), figures, job.totalSteps());
            }
        }
    }

    private static GateFigures figures(FineTuneMetrics m, Transformer model, Tokenizer tokenizer, FineTuneJob job,
                                       List<LoraDeltas> priors, Path probes) throws IOException {
        Integer total = null;
        Integer right = null;
        Integer flips = null;
        if (probes != null) {
            try (NDManager scope = NDManager.newBaseManager()) {
                Function<NDManager, Map<String, List<WeightDelta>>> parent = s -> priorDeltas(s, model, priors);
                Function<NDManager, Map<String, List<WeightDelta>>> child = s -> {
                    Map<String, List<WeightDelta>> all = priorDeltas(s, model, priors);
                    job.parameters().deltas(s).forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>())
                            .addAll(v));
                    return all;
                };
                NegativeFlips.Count count = NegativeFlips.count(model, scope, Probe.read(probes, tokenizer), parent,
                        child);
                total = count.probes();
                right = count.parentCorrect();
                flips = count.flips();
            }
        }
        boolean retention = Double.isFinite(m.retentionLossBefore()) && Double.isFinite(m.retentionLossAfter());
        return new GateFigures(TrainingMetrics.finite(m.heldOutPerplexityBefore()),
                TrainingMetrics.finite(m.heldOutPerplexityAfter()),
                retention ? Math.exp(m.retentionLossBefore()) : null,
                retention ? Math.exp(m.retentionLossAfter()) : null, total, right, flips);
    }

    private static Map<String, List<WeightDelta>> priorDeltas(NDManager s, Transformer model, List<LoraDeltas> priors) {
        Map<String, List<WeightDelta>> all = new LinkedHashMap<>();
        for (LoraDeltas p : priors) {
            p.weightDeltas(s, model).forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
        }
        return all;
    }

    /**
     * The rows: the training files' examples (all of them when a validation file is given, else all but a seeded
     * held-out share), the validation file's as held-out rows, replay rows mixed in at the replay fraction, and a
     * retention set: the retention file, else the held-out share of the replay data.
     */
    static TrainingData data(Tokenizer tokenizer, Inputs in, FineTuneConfig config) throws IOException {
        List<TrainingExample> examples = new ArrayList<>();
        for (Path p : in.training()) {
            examples.addAll(JsonlDataset.read(p, tokenizer));
        }
        List<TrainingExample> train;
        List<TrainingExample> heldOut;
        if (in.validation() != null) {
            train = examples;
            heldOut = JsonlDataset.read(in.validation(), tokenizer);
        } else {
            HeldOutSplit split = HeldOutSplit.of(examples, config.heldOutFraction(), config.seed());
            train = split.train();
            heldOut = split.heldOut();
        }
        List<PackedSequence> replayTrain = new ArrayList<>();
        List<PackedSequence> retention = new ArrayList<>();
        if (!in.replay().isEmpty()) {
            List<TrainingExample> earlier = new ArrayList<>();
            for (Path p : in.replay()) {
                earlier.addAll(JsonlDataset.read(p, tokenizer));
            }
            HeldOutSplit split = HeldOutSplit.of(earlier, earlier.size() > 1 ? Math.max(config.heldOutFraction(), 0.1)
                    : 0, config.seed());
            replayTrain.addAll(Packing.pack(split.train(), config.seqLen()));
            retention.addAll(Packing.pack(split.heldOut(), config.seqLen()));
        }
        if (in.retention() != null) {
            retention = Packing.pack(JsonlDataset.read(in.retention(), tokenizer), config.seqLen());
        }
        double fraction = config.forgetting().replayFraction();
        if (fraction > 0 && replayTrain.isEmpty()) {
            throw new IllegalArgumentException("forgetting.replay_fraction is " + fraction + " but there is no earlier"
                    + " data to replay (give forgetting.replay_files, or let a retraining policy supply the model's"
                    + " earlier datasets)");
        }
        List<PackedSequence> fresh = Packing.pack(train, config.seqLen());
        return new TrainingData(Replay.mix(fresh, replayTrain, fraction, config.seed()),
                Packing.pack(heldOut, config.seqLen()), retention, train.size());
    }
}
