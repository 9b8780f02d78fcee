package io.emend.bench.engine;

import io.emend.core.generate.Sampler;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.DecoderWeights;
import io.emend.core.infer.LowRankDelta;
import io.emend.core.infer.Projection;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.quant.WeightFormat;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.LongSupplier;

/**
 * Decode and prefill speed of the quantized engine on random models of ANCHORS.md's shapes, set against llama.cpp
 * and against the memory bandwidth measured in the same run. With {@code LLAMA_BENCH} set to a {@code llama-bench}
 * binary, the model is also written as GGUF (the engine's own blocks, same format for every matrix) and llama-bench
 * runs on it in the same process's rounds, interleaved with the engine (engine, llama-bench, bandwidth, engine
 * prefill, llama-bench prefill; repeated), so that the ratio compares the two under the same machine load; without
 * it, ANCHORS.md's figures stand in. Run by hand (see bench/RESULTS.md):
 * <pre>
 * LLAMA_BENCH=.../llama-bench java --add-modules jdk.incubator.vector -cp bench/target/emend-bench.jar:bench/target/lib/* \
 *     io.emend.bench.engine.EngineBench [--shape 110m] [--quants f32,f16,q8_0,q4_0] [--threads 1,2]
 *     [--tokens 64] [--warmup 3] [--runs 5] [--rounds 2] [--streams 1,4,16|none] [--lora-rank 16]
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
                   int[] streams, int loraRank, int rounds) {

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
                    ints(m.getOrDefault("streams", "1,4,16")), Integer.parseInt(m.getOrDefault("lora-rank", "16")),
                    Integer.parseInt(m.getOrDefault("rounds", "2")));
        }

        static int[] ints(String s) {
            if (s.isBlank() || s.equals("none")) {
                return new int[0];
            }
            return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Options o = Options.parse(args);
        LlamaConfig config = RandomModel.shape(o.shape());
        String llamaBench = System.getenv("LLAMA_BENCH");
        LlamaBench llama = llamaBench == null || llamaBench.isBlank() ? null : new LlamaBench(Path.of(llamaBench));
        System.out.printf("engine bench: shape %s, vector species %s (kernels inlined: %s), %d cores, %s; load %s%n",
                o.shape(), KernelSpecies.FLOAT, KernelSpecies.KERNELS_INLINED, Runtime.getRuntime().availableProcessors(),
                cpuModel(), load());
        System.out.println(llama == null
                ? "llama.cpp: ANCHORS.md's figures (another machine, another time); set LLAMA_BENCH to run llama-bench here"
                : "llama.cpp: " + llamaBench + " on the same weights, interleaved with the engine (" + o.rounds()
                        + " rounds of engine, llama-bench, bandwidth)");
        long start = System.nanoTime();
        RandomModel model = new RandomModel(config, 1234);
        System.out.printf("random model generated in %.1f s%n", (System.nanoTime() - start) / 1e9);
        Path ggufDir = llama == null ? null : Files.createTempDirectory("emend-engine-bench");
        System.out.println();
        System.out.println("Medians over rounds. BW = streaming read measured in each round (1 GiB, " + ReadBandwidth.STREAMS
                + " streams per thread, 512-bit loads). Emend cpu = process CPU time / (wall x threads) while decoding; llama.cpp cpu the same for "
                + "its whole decode run (load and warm-up included).");
        System.out.println("| quant | thr | Emend decode t/s | llama.cpp decode t/s | ratio | Emend prefill128 t/s "
                + "| llama.cpp pp128 t/s | ratio | weights MB/token | BW GB/s | Emend of BW | llama.cpp of BW | Emend cpu "
                + "| llama.cpp cpu | load |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (WeightFormat f : o.quants()) {
            Path gguf = null;
            for (int t : o.threads()) {
                try (Decoder decoder = new Decoder(DecoderWeights.load(config, model, QuantRule.uniform(f)), t)) {
                    if (llama != null && gguf == null) {
                        gguf = ggufDir.resolve("random-" + o.shape() + "-" + f + ".gguf");
                        BenchGguf.write(config, decoder.weights(), gguf);
                    }
                    List<Double> decode = new ArrayList<>();
                    List<Double> cpu = new ArrayList<>();
                    List<Double> prefill = new ArrayList<>();
                    List<Double> llamaDecode = new ArrayList<>();
                    List<Double> llamaPrefill = new ArrayList<>();
                    List<Double> bw = new ArrayList<>();
                    List<Double> llamaCpu = new ArrayList<>();
                    for (int round = 0; round < o.rounds(); round++) {
                        // Prefill first: a server's decode always runs after prompts have gone through the batched
                        // kernels, and measuring decode before any prefill once hid a JIT collapse of Q4_0 decode.
                        prefill.add(prefill(decoder, 128, round == 0 ? o.warmup() : 1, 3));
                        if (llama != null) {
                            llamaPrefill.add(median(llama.prefill(gguf, t, 128, 3)));
                        }
                        double[] d = decode(decoder, o.tokens(), round == 0 ? o.warmup() : 1, o.runs());
                        decode.add(d[0]);
                        cpu.add(d[1]);
                        if (llama != null) {
                            llamaDecode.add(median(llama.decode(gguf, t, 64, 3)));
                            llamaCpu.add(llama.lastCpuShare());
                        }
                        bw.add(ReadBandwidth.measure(t, 3));
                    }
                    double tps = median(decode);
                    double pp = median(prefill);
                    double ref = llama != null ? median(llamaDecode) : anchor(LLAMA_CPP, o.shape(), f, t);
                    double refPp = llama != null ? median(llamaPrefill) : anchor(LLAMA_CPP_PP, o.shape(), f, t);
                    double bandwidth = median(bw);
                    long bytes = decoder.weights().bytesPerToken();
                    System.out.printf("| %s | %d | %.2f | %.2f | %.2f× | %.1f | %.1f | %.2f× | %.1f | %.1f | %.0f%% | %.0f%% | %.0f%% "
                                    + "| %s | %s |%n",
                            f, t, tps, ref, tps / ref, pp, refPp, pp / refPp, bytes / 1e6, bandwidth / 1e9,
                            100 * bytes * tps / bandwidth, 100 * bytes * ref / bandwidth, 100 * median(cpu),
                            llamaCpu.isEmpty() ? "-" : String.format("%.0f%%", 100 * median(llamaCpu)), load());
                }
            }
            if (gguf != null) {
                Files.deleteIfExists(gguf);
            }
        }
        if (ggufDir != null) {
            Files.deleteIfExists(ggufDir);
        }
        System.out.println();
        int threads = Arrays.stream(o.threads()).max().orElse(1);
        System.out.printf("aggregate decode, %d thread(s), each stream its own 8-token prompt, %d steps; LoRA = rank %d on "
                + "all seven projections of every layer, two different adapters alternating between streams; load %s%n",
                threads, o.tokens() / 2, o.loraRank(), load());
        System.out.println("| quant | streams | t/s (no delta) | t/s (LoRA) | LoRA cost | x batch-1 (no delta) |");
        System.out.println("|---|---|---|---|---|---|");
        for (WeightFormat f : o.quants()) {
            if (!f.blocked() || o.streams().length == 0) {
                continue;
            }
            try (Decoder decoder = new Decoder(DecoderWeights.load(config, model, QuantRule.uniform(f)), threads)) {
                Adapter[] adapters = {lora("a", config, o.loraRank(), 1), lora("b", config, o.loraRank(), 2)};
                double single = Double.NaN;
                for (int b : o.streams()) {
                    double plain = aggregate(decoder, b, null, o.tokens() / 2, o.warmup(), Math.max(3, o.runs() / 2));
                    double withLora = aggregate(decoder, b, adapters, o.tokens() / 2, o.warmup(), Math.max(3, o.runs() / 2));
                    if (b == 1) {
                        single = plain;
                    }
                    System.out.printf("| %s | %d | %.1f | %.1f | %.0f%% | %.2f× |%n", f, b, plain, withLora,
                            100 * (1 - withLora / plain), plain / single);
                }
            }
        }
        model.free();
    }

    private static double anchor(Map<String, Map<WeightFormat, double[]>> table, String shape, WeightFormat f, int t) {
        double[] a = table.getOrDefault(shape, Map.of()).get(f);
        return a == null ? Double.NaN : a[Math.min(t, 2) - 1];
    }

    /** The 1-, 5- and 15-minute load averages, as {@code uptime} prints them. */
    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String cpuModel() {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse("?");
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /**
     * Median tokens/s of {@code runs} generations of {@code tokens} greedy tokens from BOS, after {@code warmup}, and the
     * median share of the decoder's threads the process got while generating (below 1 when the machine is oversubscribed).
     */
    static double[] decode(Decoder decoder, int tokens, int warmup, int runs) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] tps = new double[runs];
        double[] cpu = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            Sequence s = decoder.newSequence();
            float[] logits = decoder.step(List.of(Decoder.Chunk.next(s, 1))).getFirst()[0];
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            for (int i = 0; i < tokens; i++) {
                logits = decoder.step(List.of(Decoder.Chunk.next(s, Sampler.argmax(logits)))).getFirst()[0];
            }
            long wall = System.nanoTime() - t0;
            if (r >= 0) {
                tps[r] = tokens / (wall / 1e9);
                cpu[r] = (os.getProcessCpuTime() - c0) / ((double) wall * decoder.threads());
            }
        }
        return new double[] {median(tps), median(cpu)};
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
        return aggregate(decoder, streams, adapters, steps, warmup, runs, System::nanoTime);
    }

    /** {@link #aggregate} timed by {@code clock} (nanoseconds; the wall, or the calling thread's CPU time). */
    static double aggregate(Decoder decoder, int streams, Adapter[] adapters, int steps, int warmup, int runs,
                            LongSupplier clock) {
        double[] tps = new double[runs];
        for (int r = -warmup; r < runs; r++) {
            Sequence[] seqs = new Sequence[streams];
            List<Decoder.Chunk> prompts = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                seqs[i] = decoder.newSequence(adapters == null ? null : adapters[i % adapters.length]);
                prompts.add(new Decoder.Chunk(seqs[i], new int[] {1, 10 + i, 20 + i, 30 + i, 40, 50, 60, 70}, false));
            }
            List<float[][]> logits = decoder.step(prompts);
            long t0 = clock.getAsLong();
            for (int k = 0; k < steps; k++) {
                List<Decoder.Chunk> next = new ArrayList<>(streams);
                for (int i = 0; i < streams; i++) {
                    next.add(Decoder.Chunk.next(seqs[i], Sampler.argmax(logits.get(i)[0])));
                }
                logits = decoder.step(next);
            }
            if (r >= 0) {
                tps[r] = (double) streams * steps / ((clock.getAsLong() - t0) / 1e9);
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

    static double median(List<Double> v) {
        return median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
