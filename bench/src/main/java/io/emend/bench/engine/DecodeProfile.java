package io.emend.bench.engine;

import io.emend.core.generate.Sampler;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.DecoderWeights;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.quant.WeightFormat;
import io.emend.core.quant.WeightTensor;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Where one batch-1 decode token's time goes, on one thread: the decoder's step timed whole, then each of its matrix
 * products alone, in the step's order (q, k, v, o, gate, up, down per layer, then the head) so that each streams its
 * weights from memory as in a step, with the bytes each reads turned into GB/s beside the streaming-read bandwidth
 * measured in the same JVM. The step's time not spent in the products is everything else (norms, RoPE, attention,
 * SwiGLU, allocation). Every figure is the thread's CPU time, so that descheduling on a shared machine does not count
 * (the neighbours' memory traffic still does: compare before and after in the same minutes).
 * <pre>
 * java --add-modules jdk.incubator.vector -cp "bench/target/emend-bench.jar:bench/target/lib/*" \
 *     io.emend.bench.engine.DecodeProfile [--quants f32,q8_0] [--tokens 64] [--repeats 5] [--huge-pages false]
 * </pre>
 */
public final class DecodeProfile {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final String[] KINDS = {"q", "k", "v", "o", "gate", "up", "down", "head"};

    private DecodeProfile() {
    }

    public static void main(String[] args) {
        List<WeightFormat> quants = List.of(WeightFormat.F32, WeightFormat.Q8_0);
        int tokens = 64;
        int repeats = 5;
        boolean hugePages = false;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--quants" -> quants = Arrays.stream(args[i + 1].split(",")).map(WeightFormat::parse).toList();
                case "--tokens" -> tokens = Integer.parseInt(args[i + 1]);
                case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
                case "--huge-pages" -> hugePages = Boolean.parseBoolean(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; known: --quants, --tokens, --repeats");
            }
        }
        LlamaConfig config = RandomModel.shape("110m");
        RandomModel model = new RandomModel(config, 1234);
        System.out.printf("decode profile: 110m, 1 thread, thread CPU time, species %s (inlined: %s); load %s%n", KernelSpecies.FLOAT,
                KernelSpecies.KERNELS_INLINED, EngineBench.load());
        try {
            for (WeightFormat f : quants) {
                profile(config, model, f, tokens, repeats, hugePages);
            }
        } finally {
            model.free();
        }
    }

    private static void profile(LlamaConfig config, RandomModel model, WeightFormat f, int tokens, int repeats,
                                boolean hugePages) {
        try (Decoder decoder = new Decoder(DecoderWeights.load(config, model, QuantRule.uniform(f)), 1)) {
            DecoderWeights w = decoder.weights();
            if (hugePages) {
                collapseToHugePages(w, config);
            }
            EngineBench.prefill(decoder, 128, 2, 1);
            double[] stepMs = new double[repeats];
            double[][] kindMs = new double[KINDS.length][repeats];
            long[] kindBytes = new long[KINDS.length];
            double[] bandwidth = new double[repeats];
            Random random = new Random(5);
            float[] xDim = gaussian(random, config.hiddenSize());
            float[] xFfn = gaussian(random, config.intermediateSize());
            float[] out = new float[Math.max(config.vocabSize(), config.intermediateSize())];
            for (int r = -2; r < repeats; r++) {
                // The step, whole.
                Sequence s = decoder.newSequence();
                float[] logits = decoder.step(List.of(Decoder.Chunk.next(s, 1))).getFirst()[0];
                long t0 = cpu();
                for (int i = 0; i < tokens; i++) {
                    logits = decoder.step(List.of(Decoder.Chunk.next(s, Sampler.argmax(logits)))).getFirst()[0];
                }
                double step = (cpu() - t0) / 1e6 / tokens;
                // The same products alone, in the same order.
                long[] nanos = new long[KINDS.length];
                Arrays.fill(kindBytes, 0);
                for (int i = 0; i < tokens; i++) {
                    for (int l = 0; l < config.numLayers(); l++) {
                        DecoderWeights.Layer layer = w.layer(l);
                        WeightTensor[] m = {layer.q(), layer.k(), layer.v(), layer.o(), layer.gate(), layer.up(), layer.down()};
                        for (int k = 0; k < m.length; k++) {
                            float[] x = m[k].cols() == config.hiddenSize() ? xDim : xFfn;
                            long a = cpu();
                            m[k].matVec(x, 0, out, 0, 0, m[k].rows());
                            nanos[k] += cpu() - a;
                            kindBytes[k] += m[k].byteSize();
                        }
                    }
                    long a = cpu();
                    w.head().matVec(xDim, 0, out, 0, 0, w.head().rows());
                    nanos[7] += cpu() - a;
                    kindBytes[7] += w.head().byteSize();
                }
                double bw = ReadBandwidth.measureOnCaller(3, DecodeProfile::cpu);
                if (r >= 0) {
                    stepMs[r] = step;
                    for (int k = 0; k < KINDS.length; k++) {
                        kindMs[k][r] = nanos[k] / 1e6 / tokens;
                    }
                    bandwidth[r] = bw;
                }
            }
            for (int k = 0; k < KINDS.length; k++) {
                kindBytes[k] /= tokens;
            }
            double bw = EngineBench.median(bandwidth);
            double step = EngineBench.median(stepMs);
            System.out.printf("%n%s: step %.3f ms (%.1f t/s), %.1f MB/token, %.1f GB/s of %.1f read bandwidth (%.0f%%); load %s%n",
                    f, step, 1e3 / step, w.bytesPerToken() / 1e6, w.bytesPerToken() / step / 1e6, bw / 1e9,
                    100 * w.bytesPerToken() / (step / 1e3) / bw, EngineBench.load());
            System.out.println("| op | ms/token | share of step | MB/token | GB/s | of read BW |");
            System.out.println("|---|---|---|---|---|---|");
            double products = 0;
            for (int k = 0; k < KINDS.length; k++) {
                double ms = EngineBench.median(kindMs[k]);
                products += ms;
                double gbs = kindBytes[k] / ms / 1e6;
                System.out.printf("| %s | %.3f | %.0f%% | %.1f | %.1f | %.0f%% |%n", KINDS[k], ms, 100 * ms / step,
                        kindBytes[k] / 1e6, gbs, 100 * gbs * 1e9 / bw);
            }
            System.out.printf("| all products | %.3f | %.0f%% | | | |%n", products, 100 * products / step);
            System.out.printf("| rest of the step | %.3f | %.0f%% | | | |%n", step - products, 100 * (step - products) / step);
        }
    }

    /** Linux's madvise advice: allow huge pages here; collapse the range into huge pages now (Linux 6.1+). */
    private static final int MADV_HUGEPAGE = 14;
    private static final int MADV_COLLAPSE = 25;
    private static final long HUGE_PAGE = 2L << 20;

    /**
     * The question whether 4 KiB pages (TLB misses) cost the batch-1 product anything: THP is "madvise" on the VM, so
     * the weights' off-heap memory has none. Asks the kernel for huge pages on every 2 MiB-aligned stretch of every
     * matrix (the parts of them that fit) and prints how much it got.
     */
    private static void collapseToHugePages(DecoderWeights w, LlamaConfig config) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle madvise = linker.downcallHandle(linker.defaultLookup().find("madvise").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT));
            List<WeightTensor> all = new ArrayList<>();
            all.add(w.head());
            for (int l = 0; l < config.numLayers(); l++) {
                var layer = w.layer(l);
                all.addAll(List.of(layer.q(), layer.k(), layer.v(), layer.o(), layer.gate(), layer.up(), layer.down()));
            }
            int failed = 0;
            for (WeightTensor t : all) {
                long start = t.data().address();
                long lo = (start + HUGE_PAGE - 1) & -HUGE_PAGE;
                long hi = (start + t.data().byteSize()) & -HUGE_PAGE;
                if (hi > lo) {
                    int advised = (int) madvise.invokeExact(lo, hi - lo, MADV_HUGEPAGE);
                    int collapsed = (int) madvise.invokeExact(lo, hi - lo, MADV_COLLAPSE);
                    failed += advised != 0 || collapsed != 0 ? 1 : 0;
                }
            }
            String rollup = Files.readAllLines(Path.of("/proc/self/smaps_rollup")).stream()
                    .filter(l -> l.startsWith("AnonHugePages")).findFirst().orElse("AnonHugePages: ?");
            System.out.println("huge pages asked for: " + rollup.replaceAll("\\s+", " ") + " in the process, "
                    + failed + " madvise calls failed");
        } catch (Throwable e) {
            throw new IllegalStateException("madvise failed", e);
        }
    }

    private static long cpu() {
        return THREADS.getCurrentThreadCpuTime();
    }

    private static float[] gaussian(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }
}
