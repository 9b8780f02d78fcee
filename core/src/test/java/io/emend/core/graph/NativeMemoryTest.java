package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.emend.core.model.LlamaConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 1,000 forwards in one JVM, each in its own scope, must leave native memory where it was after warm-up. Two checks:
 * <ul>
 *   <li>exact: the model's base manager holds exactly its parameters throughout (no op result ever lands there), and
 *       each closed scope leaves no array behind;</li>
 *   <li>physical: the bytes in use in the C heap ({@code mallinfo2}: {@code uordblks + hblkhd}; PyTorch's CPU
 *       allocator takes tensor memory from it, as do direct buffers) sampled every 100 forwards after 100 warm-ups stay
 *       within 16 MiB. One forward allocates ~3 MiB of activations and logits, so leaking any per-forward result would
 *       add ~3 GiB over the run; the slack covers the JVM's own native allocations (JIT arenas, symbol tables), which
 *       settle but do not grow with the number of forwards. RSS is printed too but not asserted: it also counts Java
 *       heap pages as the heap is first touched.</li>
 * </ul>
 */
class NativeMemoryTest {

    private static final long SLACK = 16L << 20;

    @Test
    void thousandForwardsLeaveNativeMemoryFlat() throws IOException {
        LlamaConfig c = new LlamaConfig("llama", 128, 256, 2, 4, 2, 32, 4096, 64, 1e-5, 10000.0, false, true, 1, 2);
        try (Transformer m = Transformer.random(c, 9, 0.05); NDManager scope = NDManager.newBaseManager()) {
            NDManager base = m.parameter(m.parameterNames().getFirst()).getManager();
            int parameters = m.parameterNames().size();
            NDArray a = scope.randomNormal(0, 0.1f, new Shape(256, 4), DataType.FLOAT32);
            NDArray b = scope.randomNormal(0, 0.1f, new Shape(4, 128), DataType.FLOAT32);
            ForwardOptions options = ForwardOptions.defaults()
                    .withDelta(m.mlpDownProjection(1), new WeightDelta.LowRank(a, b, 2.0))
                    .withCaptures(Probe.mlpDownInput(0), Probe.blockOutput(1));
            int[][] ids = new int[2][48];
            for (int i = 0; i < 48; i++) {
                ids[0][i] = (i * 37) % 4096;
                ids[1][i] = (i * 101) % 4096;
            }
            TokenBatch batch = new TokenBatch(ids, new int[][] {ones(48), ones(48)});
            int arraysInScope = scope.getManagedArrays().size();
            List<Long> samples = new ArrayList<>();
            List<Long> rss = new ArrayList<>();
            double checksum = 0;
            for (int i = 1; i <= 1000; i++) {
                try (NDManager step = scope.newSubManager()) {
                    ForwardResult r = m.forward(step, batch, options);
                    checksum += r.logits().getFloat(0, 0, 0);
                    if (i % 50 == 0) {
                        checksum += decode(m, step);
                    }
                }
                if (i % 100 == 0) {
                    // DJL stages arrays created from Java data in direct buffers that only a GC frees; collect them
                    // so the sample shows what the graph holds, not how far behind the collector is.
                    System.gc();
                    samples.add(mallocInUse());
                    rss.add(rssBytes() >> 20);
                    assertEquals(parameters, base.getManagedArrays().size(), "the base manager holds only parameters");
                    assertEquals(arraysInScope, scope.getManagedArrays().size(), "closed scopes leave nothing behind");
                }
            }
            assertTrue(Double.isFinite(checksum));
            long first = samples.getFirst();
            long max = samples.stream().mapToLong(Long::longValue).max().orElseThrow();
            System.out.printf("C heap in use after 100..1000 forwards (KiB): %s; RSS (MiB): %s%n",
                    samples.stream().map(s -> String.valueOf(s >> 10)).toList(), rss);
            assertTrue(max - first <= SLACK, "native memory grew by " + ((max - first) >> 20) + " MiB: " + samples);
        }
    }

    /** A short cached decode, so the cache's own manager is exercised too. */
    private static float decode(Transformer m, NDManager step) {
        try (KvCache cache = m.newCache(step, 1)) {
            ForwardOptions o = ForwardOptions.defaults().withCache(cache).withLogits(LogitsScope.LAST);
            float sum = 0;
            for (int t = 0; t < 8; t++) {
                try (NDManager s = step.newSubManager()) {
                    sum += m.forward(s, TokenBatch.of(t + 5), o).logits().getFloat(0, 0);
                }
            }
            return sum;
        }
    }

    private static int[] ones(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }

    private static long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** glibc's {@code struct mallinfo2}: ten size_t fields; in use = uordblks (arenas) + hblkhd (mmapped blocks). */
    private static long mallocInUse() {
        Linker linker = Linker.nativeLinker();
        StructLayout layout = MemoryLayout.structLayout(
                ValueLayout.JAVA_LONG.withName("arena"), ValueLayout.JAVA_LONG.withName("ordblks"),
                ValueLayout.JAVA_LONG.withName("smblks"), ValueLayout.JAVA_LONG.withName("hblks"),
                ValueLayout.JAVA_LONG.withName("hblkhd"), ValueLayout.JAVA_LONG.withName("usmblks"),
                ValueLayout.JAVA_LONG.withName("fsmblks"), ValueLayout.JAVA_LONG.withName("uordblks"),
                ValueLayout.JAVA_LONG.withName("fordblks"), ValueLayout.JAVA_LONG.withName("keepcost"));
        MethodHandle mallinfo2 = linker.downcallHandle(linker.defaultLookup().find("mallinfo2").orElseThrow(),
                FunctionDescriptor.of(layout));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) mallinfo2.invokeExact((SegmentAllocator) arena);
            return info.get(ValueLayout.JAVA_LONG, layout.byteOffset(MemoryLayout.PathElement.groupElement("uordblks")))
                    + info.get(ValueLayout.JAVA_LONG, layout.byteOffset(MemoryLayout.PathElement.groupElement("hblkhd")));
        } catch (Throwable t) {
            throw new IllegalStateException("mallinfo2 failed", t);
        }
    }
}
