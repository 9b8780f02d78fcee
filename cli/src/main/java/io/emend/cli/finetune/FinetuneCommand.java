package io.emend.cli.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.FineTuneMetrics;
import io.emend.core.train.Method;
import io.emend.core.train.StepReport;
import io.emend.core.train.TrainingData;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code emend finetune}: fine-tunes a Hugging Face model directory on a JSONL file locally, without the stack.
 * LoRA and DoRA write a PEFT adapter into OUT ({@code adapter_config.json}, {@code adapter_model.safetensors});
 * full fine-tuning writes a whole model directory. Checkpoints go to {@code OUT/checkpoints}; the metrics go to
 * {@code OUT/metrics.json} and stdout.
 */
@Command(name = "finetune",
        description = "Fine-tune a model directory on JSONL data (LoRA, DoRA or full) and write a PEFT adapter or model.",
        mixinStandardHelpOptions = true)
public final class FinetuneCommand implements Callable<Integer> {

    private static final int BAR_WIDTH = 24;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "JSONL: {\"text\"}, {\"prompt\",\"completion\"} or {\"messages\"} per line")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Option(names = "--method", defaultValue = "lora", description = "lora, dora or full (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--rank", defaultValue = "8", description = "LoRA rank (default: ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--alpha", defaultValue = "16", description = "LoRA alpha (default: ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--lora-dropout", defaultValue = "0",
            description = "dropout on each LoRA adapter's input in training, lora method only (default: ${DEFAULT-VALUE})")
    double loraDropout;

    @Option(names = "--targets", split = ",", paramLabel = "MODULE",
            description = "target modules (default: all attention and MLP projections)")
    List<String> targets = new ArrayList<>();

    @Option(names = "--lr", description = "peak learning rate (default: 2e-4 for LoRA/DoRA, 5e-5 for full)")
    Double lr;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--warmup", defaultValue = "0", description = "warmup steps (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--steps", defaultValue = "0", description = "optimizer steps; 0 = --epochs passes (default)")
    int steps;

    @Option(names = "--epochs", defaultValue = "1", description = "passes over the data when --steps is 0 (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "4", description = "rows per micro-batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per step (default: ${DEFAULT-VALUE})")
    int gradAccum;

    @Option(names = "--seq-len", defaultValue = "128", description = "tokens per packed row (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "global-norm clipping, 0 = off (default: ${DEFAULT-VALUE})")
    double maxGradNorm;

    @Option(names = "--seed", defaultValue = "42", description = "seed for init, split, order (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--held-out", defaultValue = "0.1", description = "share of examples held out (default: ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "steps between checkpoints, 0 = none")
    int checkpointEvery;

    @Option(names = "--resume", description = "continue from the latest checkpoint in OUT/checkpoints")
    boolean resume;

    @Option(names = "--replay", paramLabel = "FILE", description = "earlier JSONL data to replay (repeatable)")
    List<Path> replay = new ArrayList<>();

    @Option(names = "--replay-fraction", defaultValue = "0", description = "share of training rows from --replay files")
    double replayFraction;

    @Option(names = "--l2sp", defaultValue = "0", description = "L2-SP penalty weight toward the parent (0 = off)")
    double l2sp;

    @Option(names = "--hft", description = "half fine-tuning: freeze a seeded random half of the blocks")
    boolean hft;

    @Option(names = "--olora", defaultValue = "0", description = "O-LoRA orthogonality weight against --prior-adapter")
    double olora;

    @Option(names = "--prior-adapter", paramLabel = "DIR",
            description = "PEFT adapter already applied to the model (repeatable): part of the parent, and O-LoRA's reference")
    List<Path> priorAdapters = new ArrayList<>();

    @Option(names = "--merge", description = "for LoRA/DoRA also write the merged model to OUT/merged")
    boolean merge;

    @Override
    public Integer call() throws Exception {
        Method m;
        FineTuneConfig config;
        try {
            m = Method.parse(method);
            config = new FineTuneConfig(m, rank, alpha, targets, lr != null ? lr : (m == Method.FULL ? 5e-5 : 2e-4),
                    weightDecay, warmup, steps, epochs, batch, gradAccum, seqLen, maxGradNorm, seed, heldOut,
                    checkpointEvery, new FineTuneConfig.Forgetting(l2sp, replayFraction, hft, olora), loraDropout);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (!Files.isRegularFile(data)) {
            throw new NoSuchFileException(data.toString(), null, "no such data file");
        }
        for (Path r : replay) {
            if (!Files.isRegularFile(r)) {
                throw new NoSuchFileException(r.toString(), null, "no such replay file");
            }
        }
        Path result = out.resolve(m == Method.FULL ? "model.safetensors" : LoraDeltas.WEIGHTS_FILE);
        if (Files.exists(result)) {
            throw new IllegalArgumentException(out + " already holds a finished result; choose a new --out directory");
        }
        Path checkpoints = out.resolve("checkpoints");
        if (!resume && Files.isDirectory(checkpoints)) {
            throw new IllegalArgumentException(checkpoints + " exists; pass --resume to continue that run, or use a "
                    + "new --out directory");
        }
        List<LoraDeltas> priors = new ArrayList<>();
        for (Path p : priorAdapters) {
            priors.add(LoraDeltas.read(p));
        }
        PrintWriter err = spec.commandLine().getErr();
        FineTuneMetrics metrics;
        try (Tokenizer tokenizer = Tokenizer.load(model);
             Transformer transformer = Transformer.open(model, Optional.empty())) {
            TrainingData rows = TrainingData.load(tokenizer, data, replay, config);
            try (FineTuneJob job = new FineTuneJob(transformer, rows, config, priors)) {
                if (resume) {
                    job.resumeFrom(checkpoints).ifPresentOrElse(
                            s -> err.println("resuming at step " + s + " of " + job.totalSteps()),
                            () -> err.println("no checkpoint in " + checkpoints + "; starting from step 0"));
                }
                boolean[] drawn = {false};
                try {
                    metrics = job.run(checkpointEvery > 0 ? Optional.of(checkpoints) : Optional.empty(), r -> {
                        drawn[0] = true;
                        err.print(progressLine(r));
                        err.flush();
                    });
                } finally {
                    if (drawn[0]) {
                        err.println();
                        err.flush();
                    }
                }
                Files.createDirectories(out);
                if (m == Method.FULL) {
                    Path staging = Files.createTempDirectory(out, ".model-");
                    job.writeMerged(model, staging);
                    try (var files = Files.list(staging)) {
                        for (Path f : files.toList()) {
                            Files.move(f, out.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                    Files.delete(staging);
                } else {
                    job.adapter(model.toAbsolutePath().toString()).write(out);
                    if (merge) {
                        job.writeMerged(model, out.resolve("merged"));
                    }
                }
            }
        }
        String json = metricsJson(metrics, m);
        Files.writeString(out.resolve("metrics.json"), json + "\n");
        spec.commandLine().getOut().println(json);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** {@code \rstep 3/20 [###.....] loss 2.3456 lr 1.0e-04 812 tok/s ETA 0:12}, redrawn in place. */
    static String progressLine(StepReport r) {
        int filled = (int) ((long) r.step() * BAR_WIDTH / r.totalSteps());
        double seconds = r.elapsedNanos() / 1e9;
        double perStep = r.stepsThisRun() > 0 ? seconds / r.stepsThisRun() : 0;
        long eta = Math.round(perStep * (r.totalSteps() - r.step()));
        double tokensPerSecond = seconds > 0 ? r.tokens() * (double) r.stepsThisRun() / seconds : 0;
        return String.format(Locale.ROOT, "\rstep %d/%d [%s%s] loss %.4f lr %.1e %.0f tok/s ETA %d:%02d",
                r.step(), r.totalSteps(), "#".repeat(filled), ".".repeat(BAR_WIDTH - filled), r.loss(),
                r.learningRate(), tokensPerSecond, eta / 60, eta % 60);
    }

    static String metricsJson(FineTuneMetrics m, Method method) throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode n = mapper.createObjectNode();
        n.put("method", method.name().toLowerCase(Locale.ROOT));
        n.put("steps", m.steps());
        n.put("train_loss", m.trainLoss());
        putFinite(n, "held_out_loss_before", m.heldOutLossBefore());
        putFinite(n, "held_out_loss_after", m.heldOutLossAfter());
        putFinite(n, "held_out_perplexity_before", m.heldOutPerplexityBefore());
        putFinite(n, "held_out_perplexity_after", m.heldOutPerplexityAfter());
        putFinite(n, "retention_loss_before", m.retentionLossBefore());
        putFinite(n, "retention_loss_after", m.retentionLossAfter());
        n.put("tokens_trained", m.tokensTrained());
        n.put("tokens_per_second", m.tokensPerSecond());
        return mapper.writeValueAsString(n);
    }

    private static void putFinite(ObjectNode n, String key, double v) {
        if (Double.isFinite(v)) {
            n.put(key, v);
        } else {
            n.putNull(key);
        }
    }
}
