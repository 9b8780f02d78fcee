package io.emend.bench.engine;

import io.emend.core.infer.Decoder;
import io.emend.core.infer.DecoderWeights;
import io.emend.core.infer.QuantRule;
import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.KernelSpecies;
import io.emend.core.quant.Q4_0;
import io.emend.core.quant.Q4_0Tensor;
import io.emend.core.quant.Q8_0;
import io.emend.core.quant.Q8_0Tensor;
import io.emend.core.quant.WeightFormat;
import io.emend.core.quant.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The engine's speed in <em>thread CPU time</em> on one thread, so that a machine shared with other jobs changes the
 * figures less than wall time does (descheduling does not count; cache and memory contention still do):
 * <ul>
 *   <li>{@code matMul} of a 2048 × 768 Q8_0/Q4_0 matrix with 1, 2, 4, 16 and 128 activation rows, once on the matrix
 *       alone (cache-resident) and once streamed over as many such matrices as the 110M model has weights;</li>
 *   <li>the decoder on the 110M shape: 1 and 16 streams decoding together, and a 128-token prefill.</li>
 * </ul>
 * <pre>
 * java --add-modules jdk.incubator.vector -cp "bench/target/emend-bench.jar:bench/target/lib/*" \
 *     io.emend.bench.engine.KernelBench [--quants q8_0,q4_0] [--repeats 7]
 * </pre>
 */
public final class KernelBench {

    private static final int ROWS = 2048;
    private static final int COLS = 768;
    /** 2048 × 768 matrices in the streamed set: the 110M model's ~116 M weights, far beyond the last-level cache. */
    private static final int STREAMED = 74;
    private static final int[] BATCHES = {1, 2, 4, 16, 128};
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private KernelBench() {
    }

    public static void main(String[] args) {
        List<WeightFormat> quants = List.of(WeightFormat.Q8_0, WeightFormat.Q4_0);
        int repeats = 7;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--quants" -> quants = Arrays.stream(args[i + 1].split(",")).map(WeightFormat::parse).toList();
                case "--repeats" -> repeats = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; known: --quants, --repeats");
            }
        }
        System.out.printf("kernel bench: vector species %s (kernels inlined: %s); load %s; medians of %d, thread CPU time%n",
                KernelSpecies.FLOAT, KernelSpecies.KERNELS_INLINED, EngineBench.load(), repeats);
        System.out.println("| quant | activation rows | G MAC/s cache-resident | G MAC/s streamed | G weights/s streamed |");
        System.out.println("|---|---|---|---|---|");
        for (WeightFormat f : quants) {
            kernels(f, repeats);
        }
        System.out.println();
        System.out.println("| quant | 1 stream t/s | 16 streams t/s | 16 / 1 | prefill128 t/s |");
        System.out.println("|---|---|---|---|---|");
        for (WeightFormat f : quants) {
            decoder(f, repeats);
        }
    }

    private static void kernels(WeightFormat f, int repeats) {
        try (Arena arena = Arena.ofConfined()) {
            Random random = new Random(1);
            WeightTensor resident = matrix(arena, f, random);
            WeightTensor[] streamed = new WeightTensor[STREAMED];
            for (int i = 0; i < streamed.length; i++) {
                streamed[i] = matrix(arena, f, random);
            }
            for (int batch : BATCHES) {
                float[][] x = new float[batch][COLS];
                float[][] out = new float[batch][ROWS];
                for (float[] row : x) {
                    for (int i = 0; i < COLS; i++) {
                        row[i] = (float) random.nextGaussian();
                    }
                }
                int passes = Math.max(4, 400 / batch);
                double[] cached = new double[repeats];
                double[] fromMemory = new double[repeats];
                for (int r = -3; r < repeats; r++) {
                    long c0 = cpu();
                    for (int i = 0; i < passes; i++) {
                        resident.matMul(x, batch, out, 0, 0, ROWS);
                    }
                    long c1 = cpu();
                    for (WeightTensor w : streamed) {
                        w.matMul(x, batch, out, 0, 0, ROWS);
                    }
                    long c2 = cpu();
                    if (r >= 0) {
                        cached[r] = (double) passes * ROWS * COLS * batch / (c1 - c0);
                        fromMemory[r] = (double) STREAMED * ROWS * COLS * batch / (c2 - c1);
                    }
                }
                double streamedMacs = EngineBench.median(fromMemory);
                System.out.printf("| %s | %d | %.1f | %.1f | %.1f |%n", f, batch, EngineBench.median(cached), streamedMacs,
                        streamedMacs / batch);
            }
        }
    }

    /** A random N(0, 0.02) matrix quantized to {@code f}. */
    private static WeightTensor matrix(Arena arena, WeightFormat f, Random random) {
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (random.nextGaussian() * 0.02);
        }
        MemorySegment blocks = arena.allocate(f.byteSize(ROWS, COLS), 64);
        return switch (f) {
            case Q8_0 -> {
                Q8_0.quantize(w, 0, w.length, blocks, 0);
                yield new Q8_0Tensor(blocks, ROWS, COLS);
            }
            case Q4_0 -> {
                Q4_0.quantize(w, 0, w.length, blocks, 0);
                yield new Q4_0Tensor(blocks, ROWS, COLS);
            }
            default -> throw new IllegalArgumentException("the kernel bench runs the block formats q8_0 and q4_0, not " + f);
        };
    }

    private static void decoder(WeightFormat f, int repeats) {
        LlamaConfig config = RandomModel.shape("110m");
        RandomModel model = new RandomModel(config, 1234);
        try (Decoder decoder = new Decoder(DecoderWeights.load(config, model, QuantRule.uniform(f)), 1)) {
            EngineBench.prefill(decoder, 128, 2, 1);
            double one = EngineBench.aggregate(decoder, 1, null, 16, 2, repeats, KernelBench::cpu);
            double sixteen = EngineBench.aggregate(decoder, 16, null, 16, 2, repeats, KernelBench::cpu);
            double[] prefill = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                long c0 = cpu();
                EngineBench.prefill(decoder, 128, 0, 1);
                prefill[r] = 128 / ((cpu() - c0) / 1e9);
            }
            System.out.printf("| %s | %.1f | %.1f | %.2f× | %.1f |%n", f, one, sixteen, sixteen / one,
                    EngineBench.median(prefill));
        } finally {
            model.free();
        }
    }

    private static long cpu() {
        return THREADS.getCurrentThreadCpuTime();
    }
}
