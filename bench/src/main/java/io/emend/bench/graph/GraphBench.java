package io.emend.bench.graph;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.KvCache;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Speed of the differentiable graph on DJL's PyTorch engine: prefill tokens/s (one forward over a 1×T prompt, logits
 * at every position) and one-token forward latency with a KV cache holding the prompt, for the fixtures and for
 * random-weight models of the ANCHORS.md shapes (110M: stories110M; 1.1B: TinyLlama). Achieved GFLOP/s is reported
 * as a fraction of this machine's F32 matmul peak, measured in the same run by a [2048²]·[2048²] PyTorch matmul.
 *
 * <p>Arguments: {@code --threads N} (PyTorch intra-op threads; set before the engine starts), {@code --runs N}
 * (timed repetitions, median reported; default 7), {@code --prompt T} (default 128), {@code --models a,b}
 * (from {@code tiny-llama, tiny-gpt2, stories260k, llama-110m, llama-1.1b}), {@code --fixtures DIR}.
 *
 * <p>FLOPs counted per forward of T new tokens over S keys: 2 multiply-adds per weight per token for every projection
 * and the head ({@code 2·T·params}), plus attention {@code 4·heads·T·S·headDim} (scores and weighted values over the
 * full S, as computed). Norms, RoPE and softmax are not counted. A one-token step is bound by memory, not FLOPs: it
 * streams every weight but the embedding table once, so its weight GB/s is printed beside its GFLOP/s.
 */
public final class GraphBench {

    private static final int WARMUP = 2;

    private GraphBench() {
    }

    public static void main(String[] args) throws IOException {
        int threads = 2;
        int runs = 7;
        int prompt = 128;
        List<String> models = List.of("tiny-llama", "tiny-gpt2", "stories260k", "llama-110m", "llama-1.1b");
        Path fixtures = Path.of(System.getProperty("emend.fixtures", "../shared/fixtures"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--prompt" -> prompt = Integer.parseInt(args[++i]);
                case "--models" -> models = List.of(args[++i].split(","));
                case "--fixtures" -> fixtures = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (expected --threads, --runs, --prompt, --models, --fixtures)");
            }
        }
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getInstance();
        System.out.printf(Locale.ROOT, "PyTorch threads %d, prompt %d tokens, %d runs (median), load average %s%n",
                JniUtils.getNumThreads(), prompt, runs, loadAverage());
        double peak = matmulPeak(runs);
        System.out.printf(Locale.ROOT, "F32 matmul peak [2048x2048]x[2048x2048]: %.1f GFLOP/s%n%n", peak);
        System.out.println("| model | params | threads | prefill tok/s | prefill GFLOP/s | % of peak "
                + "| 1-token latency ms | decode GFLOP/s | % of peak | decode weight GB/s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (String name : models) {
            try (Transformer m = model(name, fixtures)) {
                int t = Math.min(prompt, m.config().maxPositions() - 1);
                Row r = measure(m, t, runs);
                // A decode step reads every weight once except the embedding table (one row): F32, 4 bytes each.
                double streamed = 4.0 * (m.parameterCount() - (long) m.config().vocabSize() * m.config().hiddenSize());
                System.out.printf(Locale.ROOT, "| %s | %.2f M | %d | %.0f | %.1f | %.0f%% | %.2f | %.1f | %.0f%% | %.1f |%n",
                        name + (t != prompt ? " (T=" + t + ")" : ""), m.parameterCount() / 1e6,
                        JniUtils.getNumThreads(), r.prefillTokensPerSecond, r.prefillGflops, 100 * r.prefillGflops / peak,
                        r.decodeMillis, r.decodeGflops, 100 * r.decodeGflops / peak, streamed / (r.decodeMillis / 1e3) / 1e9);
            }
        }
        System.out.printf(Locale.ROOT, "%nload average at the end: %s%n", loadAverage());
    }

    private static Transformer model(String name, Path fixtures) throws IOException {
        return switch (name) {
            case "llama-110m" -> Transformer.random(new LlamaConfig("llama", 768, 2048, 12, 12, 12, 64, 32000, 2048,
                    1e-5, 10000.0, false, false, 1, 2), 1234, 0.02);
            case "llama-1.1b" -> Transformer.random(new LlamaConfig("llama", 2048, 5632, 22, 32, 4, 64, 32000, 2048,
                    1e-5, 10000.0, false, false, 1, 2), 1234, 0.02);
            default -> {
                Path dir = fixtures.resolve(name);
                if (!Files.isDirectory(dir)) {
                    throw new IllegalArgumentException("unknown model " + name + " (no fixture directory " + dir + ")");
                }
                yield Transformer.open(dir, Optional.empty());
            }
        };
    }

    private record Row(double prefillTokensPerSecond, double prefillGflops, double decodeMillis, double decodeGflops) {
    }

    private static Row measure(Transformer m, int t, int runs) {
        int[] ids = new int[t];
        for (int i = 0; i < t; i++) {
            ids[i] = 3 + (i * 7919) % (m.config().vocabSize() - 3);
        }
        double[] prefill = new double[runs];
        try (NDManager scope = NDManager.newBaseManager()) {
            for (int r = -WARMUP; r < runs; r++) {
                try (NDManager step = scope.newSubManager()) {
                    long start = System.nanoTime();
                    m.forward(step, TokenBatch.of(ids), ForwardOptions.defaults()).logits().getFloat(0, t - 1, 0);
                    if (r >= 0) {
                        prefill[r] = (System.nanoTime() - start) / 1e9;
                    }
                }
            }
            // Decode: the prompt is cached, then each timed step feeds one token (logits for it only).
            int steps = Math.max(runs, 16);
            double[] decode = new double[steps];
            try (KvCache cache = m.newCache(scope, 1)) {
                ForwardOptions o = ForwardOptions.defaults().withCache(cache).withLogits(LogitsScope.LAST);
                int prefix = Math.min(t, m.config().maxPositions() - steps - WARMUP);
                try (NDManager step = scope.newSubManager()) {
                    m.forward(step, TokenBatch.of(Arrays.copyOf(ids, prefix)), o);
                }
                for (int s = -WARMUP; s < steps; s++) {
                    try (NDManager step = scope.newSubManager()) {
                        long start = System.nanoTime();
                        m.forward(step, TokenBatch.of(ids[(s + WARMUP) % t]), o).logits().getFloat(0, 0);
                        if (s >= 0) {
                            decode[s] = (System.nanoTime() - start) / 1e9;
                        }
                    }
                }
                double prefillSeconds = median(prefill);
                double decodeSeconds = median(decode);
                int keysAtDecode = prefix + WARMUP + steps / 2;
                return new Row(t / prefillSeconds, flops(m.config(), t, t, true) / prefillSeconds / 1e9,
                        decodeSeconds * 1e3, flops(m.config(), 1, keysAtDecode, true) / decodeSeconds / 1e9);
            }
        }
    }

    /** FLOPs of a forward of {@code tokens} new tokens attending over {@code keys} keys, head on every new token. */
    static double flops(ModelConfig c, int tokens, int keys, boolean head) {
        return switch (c) {
            case LlamaConfig l -> {
                long q = (long) l.numHeads() * l.headDim();
                long kv = (long) l.numKvHeads() * l.headDim();
                long h = l.hiddenSize();
                long perLayer = h * q + 2 * h * kv + q * h + 3 * h * l.intermediateSize();
                double projections = 2.0 * tokens * perLayer * l.numLayers();
                double attention = 4.0 * l.numHeads() * tokens * (double) keys * l.headDim() * l.numLayers();
                yield projections + attention + (head ? 2.0 * tokens * h * l.vocabSize() : 0);
            }
            case Gpt2Config g -> {
                long h = g.hiddenSize();
                long perLayer = 4 * h * h + 2 * h * g.intermediateSize();
                double projections = 2.0 * tokens * perLayer * g.numLayers();
                double attention = 4.0 * g.numHeads() * tokens * (double) keys * g.headDim() * g.numLayers();
                yield projections + attention + (head ? 2.0 * tokens * h * g.vocabSize() : 0);
            }
        };
    }

    /** Median GFLOP/s of a [2048²]·[2048²] F32 matmul: the most this engine gets out of the machine. */
    private static double matmulPeak(int runs) {
        int n = 2048;
        double[] gflops = new double[runs];
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(0, 1, new Shape(n, n), DataType.FLOAT32);
            NDArray b = m.randomNormal(0, 1, new Shape(n, n), DataType.FLOAT32);
            for (int r = -WARMUP; r < runs; r++) {
                long start = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getFloat(0, 0);
                }
                if (r >= 0) {
                    gflops[r] = 2.0 * n * n * n / (System.nanoTime() - start);
                }
            }
        }
        return median(gflops);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return String.join(" ", new ArrayList<>(List.of(parts)).subList(0, 3));
        } catch (IOException e) {
            return "unknown";
        }
    }
}
