package io.emend.bench.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.emend.core.graph.Transformer;
import io.emend.core.model.LlamaConfig;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.Method;
import io.emend.core.train.StepReport;
import io.emend.core.train.TrainingData;
import io.emend.core.train.data.PackedSequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * LoRA training speed on the 110M Llama shape of {@code ../shared/ANCHORS.md} (hidden 768, 12 layers, 12 heads,
 * MLP 2048, vocabulary 32000, untied head; random N(0, 0.02) weights made here), through the product's own loop
 * ({@link FineTuneJob}: forward, backward, NaN checks, clipping, AdamW), against this machine's matmul peak measured
 * in the same run with the same thread count.
 *
 * <p>FLOPs counted per trained token, for a frozen base: {@code 4·N} (forward {@code 2·N}, activation gradients
 * {@code 2·N}, no weight gradients), N = the matmul parameters (every projection and the head, not the embedding
 * table), plus attention: forward {@code 4·T·hidden} per layer (QKᵀ and PV over T keys; the causal mask is applied
 * to a full T×T product, so T, not T/2) and twice that backward. The adapter's own FLOPs (about {@code 6·r·(in+out)}
 * per module) are not counted. The peak is a {@code [B·T, hidden]·[hidden, mlp]} matmul (the training's up/gate
 * shape), and also a [2048²]·[2048²] one for reference, sampled before and after the training (A, B, A).
 *
 * <p>Arguments: {@code --threads N} (PyTorch intra-op threads, set before the engine starts; default 2),
 * {@code --batch B} (4), {@code --seq T} (128), {@code --rank r} (16), {@code --steps N} timed steps (6),
 * {@code --warmup N} untimed steps first (2).
 */
public final class TrainBench {

    private static final int PEAK_RUNS = 7;

    private TrainBench() {
    }

    public static void main(String[] args) throws IOException {
        int threads = 2;
        int batch = 4;
        int seq = 128;
        int rank = 16;
        int steps = 6;
        int warmup = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--seq" -> seq = Integer.parseInt(args[++i]);
                case "--rank" -> rank = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (expected --threads, --batch, --seq, --rank, --steps, --warmup)");
            }
        }
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        LlamaConfig shape = new LlamaConfig("llama", 768, 2048, 12, 12, 12, 64, 32000, 2048, 1e-5, 10000.0, false,
                false, 1, 2);
        System.out.printf(Locale.ROOT, "LoRA r=%d on all 7 projections, batch %d x %d tokens, %d timed steps after %d "
                + "warm-up, PyTorch threads %s, load average %s%n", rank, batch, seq, steps, warmup,
                threads, loadAverage());
        double perToken = flopsPerToken(shape, seq);
        System.out.printf(Locale.ROOT, "FLOPs per token: 4N + attention = 4 x %.1f M + %.1f M = %.3f GFLOP "
                + "(N = matmul parameters incl. head; attention fwd 4*T*hidden + bwd 8*T*hidden per layer)%n",
                matmulParameters(shape) / 1e6, attentionFlopsPerToken(shape, seq) / 1e6, perToken / 1e9);

        double[] peakBefore = matmul(batch * seq, shape.hiddenSize(), shape.intermediateSize());
        double[] squareBefore = matmul(2048, 2048, 2048);
        double[] stepSeconds;
        try (Transformer model = Transformer.random(shape, 1234, 0.02)) {
            stepSeconds = train(model, batch, seq, rank, warmup, steps);
        }
        double[] peakAfter = matmul(batch * seq, shape.hiddenSize(), shape.intermediateSize());
        double[] squareAfter = matmul(2048, 2048, 2048);

        double peak = median(concat(peakBefore, peakAfter));
        double square = median(concat(squareBefore, squareAfter));
        double seconds = median(stepSeconds);
        double tokensPerSecond = batch * seq / seconds;
        double gflops = tokensPerSecond * perToken / 1e9;
        System.out.println();
        System.out.println("| threads | step s (median) | tokens/s | achieved GFLOP/s | matmul [" + batch * seq
                + "x768]x[768x2048] GFLOP/s | % of it | matmul [2048²]² GFLOP/s | % of it |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| %d | %.3f | %.1f | %.1f | %.1f | **%.0f%%** | %.1f | %.0f%% |%n",
                JniUtils.getNumThreads(), seconds, tokensPerSecond, gflops, peak, 100 * gflops / peak, square,
                100 * gflops / square);
        System.out.printf(Locale.ROOT, "step seconds: %s; peak samples before %s after %s%n", format(stepSeconds),
                format(peakBefore), format(peakAfter));
        System.out.printf(Locale.ROOT, "load average at the end: %s%n", loadAverage());
    }

    /** Seconds of each timed optimizer step of a LoRA fine-tune on random token rows. */
    private static double[] train(Transformer model, int batch, int seq, int rank, int warmup, int steps)
            throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        List<PackedSequence> rows = new ArrayList<>();
        for (int r = 0; r < batch * (warmup + steps); r++) {
            int[] tokens = new int[seq + 1];
            boolean[] targets = new boolean[seq + 1];
            for (int t = 0; t <= seq; t++) {
                tokens[t] = 3 + random.nextInt(model.config().vocabSize() - 3);
                targets[t] = t > 0;
            }
            rows.add(new PackedSequence(tokens, targets));
        }
        TrainingData data = new TrainingData(rows, List.of(), List.of(), rows.size());
        FineTuneConfig config = new FineTuneConfig(Method.LORA, rank, 2.0 * rank, List.of(), 1e-4, 0, 0,
                warmup + steps, 0, batch, 1, seq, 1.0, 42, 0, 0, FineTuneConfig.Forgetting.none());
        List<Long> ends = new ArrayList<>();
        try (FineTuneJob job = new FineTuneJob(model, data, config, List.of())) {
            job.run(Optional.empty(), (StepReport r) -> {
                ends.add(r.elapsedNanos());
                System.out.printf(Locale.ROOT, "step %d/%d loss %.4f %.2f s%n", r.step(), r.totalSteps(), r.loss(),
                        (r.elapsedNanos() - (ends.size() > 1 ? ends.get(ends.size() - 2) : 0)) / 1e9);
            });
        }
        double[] seconds = new double[steps];
        for (int s = 0; s < steps; s++) {
            seconds[s] = (ends.get(warmup + s) - ends.get(warmup + s - 1)) / 1e9;
        }
        return seconds;
    }

    /** Projections of every layer and the head: what a token multiplies through. */
    static double matmulParameters(LlamaConfig c) {
        long h = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        long perLayer = h * q + 2 * h * kv + q * h + 3 * h * c.intermediateSize();
        return (double) perLayer * c.numLayers() + (double) h * c.vocabSize();
    }

    /** Attention's FLOPs per token over {@code t} keys: forward 4·t·heads·headDim per layer, backward twice that. */
    static double attentionFlopsPerToken(LlamaConfig c, int t) {
        return 12.0 * t * c.numHeads() * c.headDim() * c.numLayers();
    }

    static double flopsPerToken(LlamaConfig c, int t) {
        return 4 * matmulParameters(c) + attentionFlopsPerToken(c, t);
    }

    /** GFLOP/s samples of an [m, k]·[k, n] F32 matmul. */
    private static double[] matmul(int m, int k, int n) {
        double[] gflops = new double[PEAK_RUNS];
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.randomNormal(0, 1, new Shape(m, k), DataType.FLOAT32);
            NDArray b = manager.randomNormal(0, 1, new Shape(k, n), DataType.FLOAT32);
            for (int r = -2; r < PEAK_RUNS; r++) {
                long start = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getFloat(0, 0);
                }
                if (r >= 0) {
                    gflops[r] = 2.0 * m * k * n / (System.nanoTime() - start);
                }
            }
        }
        return gflops;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String format(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) {
            sb.append(sb.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2f", x));
        }
        return sb.toString();
    }

    private static String loadAverage() {
        try {
            return String.join(" ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
        } catch (IOException e) {
            return "unknown";
        }
    }
}
