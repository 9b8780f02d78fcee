package io.emend.bench.engine;

import io.emend.core.generate.Sampler;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.ComputePool;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.DecoderWeights;
import io.emend.core.infer.LowRankDelta;
import io.emend.core.infer.Projection;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.quant.WeightFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode speed of the quantized engine on random models of ANCHORS.md's shapes, set against llama.cpp's figures
 * there and against the memory bandwidth measured in the same run. Run by hand (see bench/RESULTS.md):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/emend-bench.jar:bench/target/lib/* \
 *     io.emend.bench.engine.EngineBench [--shape 110m] [--quants f32,f16,q8_0,q4_0] [--threads 1,2]
 *     [--tokens 64] [--warmup 3] [--runs 5] [--streams 1,4,16] [--lora-rank 16]
 * </pre>
 */
public final class EngineBench {

    /** llama.cpp tg64 medians from ANCHORS.md: shape → format → {1 thread, 2 threads}. */
    private static final Map<String, Map<WeightFormat, double[]>> LLAMA_CPP = Map.of(
            "110m", Map.of(WeightFormat.F32, new double[] {29.35, 45.61}, WeightFormat.F16, new double[] {46.08, 72.50},
                    WeightFormat.Q8_0, new double[] {78.32, 115.59}, WeightFormat.Q4_0, new double[] {130.51, 178.65}),
            "1.1b", Map.of(WeightFormat.F16, new double[] {6.39, 10.46}, WeightFormat.Q8_0, new double[] {12.24, 21.61},
                    WeightFormat.Q4_0, new double[] {17.38, 25.11}));
    /** llama.cpp pp128 from ANCHORS.md, same keys. */
    private static final Map<String, Map<WeightFormat, double[]>> LLAMA_CPP_PP = Map.of(
            "110m", Map.of(WeightFormat.F32, new double[] {237.1, 433.8}, WeightFormat.F16, new double[] {308.1, 536.3},
                    WeightFormat.Q8_0, new double[] {262.5, 469.7}, WeightFormat.Q4_0, new double[] {334.4, 567.8}),
            "1.1b", Map.of(WeightFormat.F16, new double[] {34.3, 68.8}, WeightFormat.Q8_0, new double[] {30.0, 61.3},
                    WeightFormat.Q4_0, new double[] {39.1, 59.6}));

    private EngineBench() {
    }

    record Options(String shape, List<WeightFormat> quants, int[] threads, int tokens, int warmup, int runs,
                   int[] streams, int loraRank) {

        static Options parse(String[] args) {
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < args.length; i += 2) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --option value pairs, got '" + args[i] + "'");
                }
                m.put(args[i].substring(2), args[i + 1]);
            }
            return new Options(m.getOrDefault("shape", "110m"),
                    Arrays.stream(m.getOrDefault("quants", "f32,f16,q8_0,q4_0").split(",")).map(WeightFormat::parse).toList(),
                    ints(m.getOrDefault("threads", "1,2")), Integer.parseInt(m.getOrDefault("tokens", "64")),
                    Integer.parseInt(m.getOrDefault("warmup", "3")), Integer.parseInt(m.getOrDefault("runs", "5")),
                    ints(m.getOrDefault("streams", "1,4,16")), Integer.parseInt(m.getOrDefault("lora-rank", "16")));
        }

        static int[] ints(String s) {
            return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
        }
    }

    public static void main(String[] args) {
        Options o = Options.parse(args);
        LlamaConfig config = RandomModel.shape(o.shape());
        System.out.printf("engine bench: shape %s, vector species %s (kernels inlined: %s), %d cores%n", o.shape(),
                KernelSpecies.FLOAT, KernelSpecies.KERNELS_INLINED, Runtime.getRuntime().availableProcessors());
        Map<Integer, Double> bandwidth = new HashMap<>();
        for (int t : o.threads()) {
            bandwidth.put(t, bandwidth(t));
            System.out.printf("streaming read bandwidth, %d thread(s): %.1f GB/s (best of 5 passes over 1 GiB)%n", t,
                    bandwidth.get(t) / 1e9);
        }
        long start = System.nanoTime();
        RandomModel model = new RandomModel(config, 1234);
        System.out.printf("random model generated in %.1f s%n", (System.nanoTime() - start) / 1e9);
        System.out.println();
        System.out.println("| quant | thr | decode t/s | llama.cpp t/s | ratio | weights MB/token | GB/s | of measured BW | prefill128 t/s | ratio to llama.cpp pp128 |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (WeightFormat f : o.quants()) {
            for (int t : o.threads()) {
                try (Decoder decoder = new Decoder(DecoderWeights.load(config, model, QuantRule.uniform(f)), t)) {
                    // Prefill first: a server's decode always runs after prompts have gone through the batched
                    // kernels, and measuring decode before any prefill once hid a JIT collapse of Q4_0 decode.
                    double prefill = prefill(decoder, 128, Math.max(1, o.warmup() / 2), 3);
                    double tps = decode(decoder, o.tokens(), o.warmup(), o.runs());
                    long bytes = decoder.weights().bytesPerToken();
                    double[] anchor = LLAMA_CPP.getOrDefault(o.shape(), Map.of()).get(f);
                    double[] anchorPp = LLAMA_CPP_PP.getOrDefault(o.shape(), Map.of()).get(f);
                    double ref = anchor == null ? Double.NaN : anchor[Math.min(t, 2) - 1];
                    double refPp = anchorPp == null ? Double.NaN : anchorPp[Math.min(t, 2) - 1];
                    double gbs = bytes * tps / 1e9;
                    System.out.printf("| %s | %d | %.2f | %.2f | %.2f× | %.1f | %.2f | %.0f%% | %.1f | %.2f× |%n", f, t, tps, ref,
                            tps / ref, bytes / 1e6, gbs, 100 * bytes * tps / bandwidth.get(t), prefill, prefill / refPp);
                }
            }
        }
        System.out.println();
        int threads = Arrays.stream(o.threads()).max().orElse(1);
        System.out.printf("aggregate decode, %d thread(s), each stream its own 8-token prompt, %d steps; LoRA = rank %d on "
                + "all seven projections of every layer, two different adapters alternating between streams%n", threads,
                o.tokens() / 2, o.loraRank());
        System.out.println("| quant | streams | t/s (no delta) | t/s (LoRA) | LoRA cost |");
        System.out.println("|---|---|---|---|---|");
        for (WeightFormat f : o.quants()) {
            if (!f.blocked()) {
                continue;
            }
            try (Decoder decoder = new Decoder(DecoderWeights.load(config, model, QuantRule.uniform(f)), threads)) {
                Adapter[] adapters = {lora("a", config, o.loraRank(), 1), lora("b", config, o.loraRank(), 2)};
                for (int b : o.streams()) {
                    double plain = aggregate(decoder, b, null, o.tokens() / 2, o.warmup(), Math.max(3, o.runs() / 2));
                    double withLora = aggregate(decoder, b, adapters, o.tokens() / 2, o.warmup(), Math.max(3, o.runs() / 2));
                    System.out.printf("| %s | %d | %.1f | %.1f | %.0f%% |%n", f, b, plain, withLora, 100 * (1 - withLora / plain));
                }
            }
        }
        model.free();
    }

    /** Median tokens/s of {@code runs} generations of {@code tokens} greedy tokens from BOS, after {@code warmup}. */
    static double decode(Decoder decoder, int tokens, int warmup, int runs) {
        double[] tps = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            Sequence s = decoder.newSequence();
            float[] logits = decoder.step(List.of(Decoder.Chunk.next(s, 1))).getFirst()[0];
            long t0 = System.nanoTime();
            for (int i = 0; i < tokens; i++) {
                logits = decoder.step(List.of(Decoder.Chunk.next(s, Sampler.argmax(logits)))).getFirst()[0];
            }
            if (r >= 0) {
                tps[r] = tokens / ((System.nanoTime() - t0) / 1e9);
            }
        }
        return median(tps);
    }

    static double prefill(Decoder decoder, int n, int warmup, int runs) {
        int[] prompt = new int[n];
        Random random = new Random(3);
        for (int i = 0; i < n; i++) {
            prompt[i] = 3 + random.nextInt(decoder.config().vocabSize() - 3);
        }
        double[] tps = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            Sequence s = decoder.newSequence();
            long t0 = System.nanoTime();
            decoder.prefill(s, prompt, n);
            if (r >= 0) {
                tps[r] = n / ((System.nanoTime() - t0) / 1e9);
            }
        }
        return median(tps);
    }

    /** Median total tokens/s of {@code streams} sequences decoding {@code steps} tokens together. */
    static double aggregate(Decoder decoder, int streams, Adapter[] adapters, int steps, int warmup, int runs) {
        double[] tps = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            Sequence[] seqs = new Sequence[streams];
            List<Decoder.Chunk> prompts = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                seqs[i] = decoder.newSequence(adapters == null ? null : adapters[i % adapters.length]);
                prompts.add(new Decoder.Chunk(seqs[i], new int[] {1, 10 + i, 20 + i, 30 + i, 40, 50, 60, 70}, false));
            }
            List<float[][]> logits = decoder.step(prompts);
            long t0 = System.nanoTime();
            for (int k = 0; k < steps; k++) {
                List<Decoder.Chunk> next = new ArrayList<>(streams);
                for (int i = 0; i < streams; i++) {
                    next.add(Decoder.Chunk.next(seqs[i], Sampler.argmax(logits.get(i)[0])));
                }
                logits = decoder.step(next);
            }
            if (r >= 0) {
                tps[r] = (double) streams * steps / ((System.nanoTime() - t0) / 1e9);
            }
        }
        return median(tps);
    }

    /** A random rank-{@code rank} LoRA on q, k, v, o, gate, up and down of every layer (PEFT's "all-linear"). */
    static Adapter lora(String name, LlamaConfig c, int rank, long seed) {
        Random random = new Random(seed);
        Map<Adapter.Target, LowRankDelta> deltas = new HashMap<>();
        int dim = c.hiddenSize();
        int qDim = c.numHeads() * c.headDim();
        int kvDim = c.numKvHeads() * c.headDim();
        int ffn = c.intermediateSize();
        for (int l = 0; l < c.numLayers(); l++) {
            for (Projection p : Projection.values()) {
                int in = switch (p) {
                    case O -> qDim;
                    case DOWN -> ffn;
                    default -> dim;
                };
                int out = switch (p) {
                    case Q -> qDim;
                    case K, V -> kvDim;
                    case O, DOWN -> dim;
                    case GATE, UP -> ffn;
                };
                float[] a = new float[rank * in];
                float[] b = new float[out * rank];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (random.nextGaussian() * 0.01);
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (random.nextGaussian() * 0.01);
                }
                deltas.put(new Adapter.Target(l, p), new LowRankDelta(a, b, rank, in, out, 2f));
            }
        }
        return Adapter.of(name, deltas);
    }

    /**
     * Streaming-read bandwidth: every thread sums its share of a 1 GiB off-heap segment with vector loads into four
     * accumulators (as ANCHORS.md's C program does with AVX2); best of 5 passes, bytes read / seconds.
     */
    static double bandwidth(int threads) {
        long bytes = 1L << 30;
        VectorSpecies<Float> species = FloatVector.SPECIES_PREFERRED;
        try (Arena arena = Arena.ofShared(); ComputePool pool = new ComputePool(threads)) {
            MemorySegment seg = arena.allocate(bytes, 4096);
            seg.fill((byte) 1);
            int chunks = 1024;
            long chunk = bytes / chunks;
            double[] sink = new double[threads * 16];
            double best = 0;
            for (int pass = 0; pass < 6; pass++) {
                long t0 = System.nanoTime();
                pool.run(chunks, (from, to) -> {
                    FloatVector a0 = FloatVector.zero(species);
                    FloatVector a1 = FloatVector.zero(species);
                    FloatVector a2 = FloatVector.zero(species);
                    FloatVector a3 = FloatVector.zero(species);
                    long step = species.vectorByteSize();
                    for (long at = from * chunk; at < to * chunk; at += 4 * step) {
                        a0 = a0.add(FloatVector.fromMemorySegment(species, seg, at, ByteOrder.LITTLE_ENDIAN));
                        a1 = a1.add(FloatVector.fromMemorySegment(species, seg, at + step, ByteOrder.LITTLE_ENDIAN));
                        a2 = a2.add(FloatVector.fromMemorySegment(species, seg, at + 2 * step, ByteOrder.LITTLE_ENDIAN));
                        a3 = a3.add(FloatVector.fromMemorySegment(species, seg, at + 3 * step, ByteOrder.LITTLE_ENDIAN));
                    }
                    sink[(from * threads / chunks) * 16] += a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
                });
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (pass > 0) {
                    best = Math.max(best, bytes / seconds);
                }
            }
            if (Double.isNaN(Arrays.stream(sink).sum())) {
                throw new IllegalStateException("bandwidth sum is NaN");
            }
            return best;
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
