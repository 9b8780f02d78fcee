package io.emend.bench.merge;

import com.sun.nio.file.ExtendedOpenOption;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.plan.MergeProgress;
import io.emend.core.merge.plan.MergeResult;
import io.emend.core.merge.recipe.RecipeParser;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Merges random models larger than the JVM heap and reports throughput against this machine's sequential read
 * bandwidth, from the storage device and from the page cache, and its file copy speed, all measured in the same run,
 * plus peak heap and resident memory during each merge.
 *
 * <p>Two read bandwidths, because "sequential read bandwidth" has two readings here. The <b>device</b> read opens the
 * inputs with {@code O_DIRECT} ({@link ExtendedOpenOption#DIRECT}, block-aligned buffers), so the page cache is
 * bypassed: what a merge of models larger than RAM, whose inputs cannot stay cached, reads at. The <b>page-cache</b>
 * read is a plain sequential {@code read()} of the same files just before the merge, on the page-cache state the
 * merge then sees: what a merge of cached inputs could reach. Both are printed with the merge's ratio to each.
 *
 * <p>Three random F16 Llama models of one of the shapes of {@code ../shared/ANCHORS.md} are written under a fresh
 * temporary directory, merged with each method, and deleted: {@code --shape 110m} (hidden 768, 12 layers, 12 KV
 * heads, MLP 2048; 0.27 GB each) or {@code --shape 1.1b} (TinyLlama: hidden 2048, 22 layers, 4 KV heads of 64, MLP
 * 5632; 2.2 GB each), vocabulary 32000. Run with a heap far below one model, e.g.
 * {@code java -Xmx512m ... io.emend.bench.merge.MergeBench}. Arguments: {@code --shape 110m|1.1b}, {@code --layers N}
 * (overrides the shape's), {@code --methods a,b}, {@code --threads N} (default: all processors), {@code --repeat N}
 * (runs per method, default 3; medians are reported, each run preceded by a device read and a page-cache read of
 * the same inputs so that merge and reads are measured side by side), {@code --warmups N} (untimed runs per method
 * first, default 1: JIT compilation), {@code --dir PARENT}, {@code --cold} (each merge reads its inputs from the device:
 * instead of the page-cache read, the inputs are evicted from the page cache before the merge, see {@link PageCache},
 * and the fraction of them still cached is printed; the ratio to the device read is then the merge's share of what
 * the disk can deliver, the regime of models larger than RAM).
 */
public final class MergeBench {

    /** A model shape: hidden size, MLP size, KV projection rows, vocabulary, layers. */
    record Shape(String name, int hidden, int mlp, int kv, int vocab, int layers) {
    }

    private static final Map<String, Shape> SHAPES = Map.of(
            "110m", new Shape("110m", 768, 2048, 768, 32000, 12),
            "1.1b", new Shape("1.1b", 2048, 5632, 256, 32000, 22));
    private static final ValueLayout.OfShort U16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private MergeBench() {
    }

    public static void main(String[] args) throws Exception {
        Shape shape = SHAPES.get("1.1b");
        Integer layers = null;
        int threads = Runtime.getRuntime().availableProcessors();
        int repeat = 3;
        int warmups = 1;
        List<String> methods = List.of("linear", "task_arithmetic", "ties", "dare_linear");
        Path parent = Path.of(System.getProperty("java.io.tmpdir"));
        boolean cold = false;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--cold" -> {
                    cold = true;
                    i--;
                }
                case "--shape" -> shape = java.util.Optional.ofNullable(SHAPES.get(args[i + 1])).orElseThrow(
                        () -> new IllegalArgumentException("--shape must be 110m or 1.1b"));
                case "--layers" -> layers = Integer.parseInt(args[i + 1]);
                case "--methods" -> methods = List.of(args[i + 1].split(","));
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
                case "--warmups" -> warmups = Integer.parseInt(args[i + 1]);
                case "--dir" -> parent = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (valid: --shape 110m|1.1b, --layers N, --methods a,b, --threads N, --repeat N, --warmups N, --dir PARENT, --cold)");
            }
        }
        if (layers != null) {
            shape = new Shape(shape.name(), shape.hidden(), shape.mlp(), shape.kv(), shape.vocab(), layers);
        }
        Path dir = Files.createTempDirectory(parent, "emend-merge-bench-");
        try {
            run(dir, shape, methods, threads, repeat, warmups, cold);
        } finally {
            deleteRecursively(dir);
        }
    }

    private static void run(Path dir, Shape shape, List<String> methods, int threads, int repeat,
                            int warmups, boolean cold) throws Exception {
        System.out.printf(Locale.ROOT, "max heap %d MB, %d cores, %d merge threads, shape %s with %d layers, load %s%n",
                Runtime.getRuntime().maxMemory() >> 20, Runtime.getRuntime().availableProcessors(), threads,
                shape.name(), shape.layers(), Files.readString(Path.of("/proc/loadavg")).strip());
        long modelBytes = 0;
        for (String name : List.of("base", "a", "b")) {
            long t0 = System.nanoTime();
            modelBytes = writeModel(dir.resolve(name), shape, name.hashCode());
            System.out.printf(Locale.ROOT, "wrote %s: %.2f GB in %.1f s%n", name, modelBytes / 1e9, (System.nanoTime() - t0) / 1e9);
        }
        Path weights = dir.resolve("base/model.safetensors");
        List<Path> inputs = List.of(weights, dir.resolve("a/model.safetensors"), dir.resolve("b/model.safetensors"));
        double copyMBs = copyThroughput(weights, dir.resolve("copy.safetensors"));
        System.out.printf(Locale.ROOT, "file copy: %.0f MB/s (a %.2f GB file); each merge is preceded by a device read"
                + " (O_DIRECT, page cache bypassed) and %s, %d runs per method after %d untimed, medians%n", copyMBs,
                modelBytes / 1e9, cold ? "the eviction of its inputs from the page cache (cold: the merge reads them"
                        + " from the device)" : "a page-cache read of its inputs (the state the merge then sees)",
                repeat, warmups);
        System.out.println();
        System.out.println("| method | threads | input GB | seconds | CPU seconds (kernel) | CPU-s per GB | MB/s of input"
                + " | device read MB/s | vs device read | page-cache read MB/s | vs page-cache read | vs copy"
                + " | peak heap MB | peak RSS MB (anon) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (String method : methods) {
            Path recipe = dir.resolve(method + ".yml");
            Files.writeString(recipe, recipe(method));
            double[] seconds = new double[repeat];
            double[] cpu = new double[repeat];
            double[] kernel = new double[repeat];
            double[] read = new double[repeat];
            double[] device = new double[repeat];
            double[] resident = new double[repeat];
            long inputBytes = 0;
            long peakHeap = 0;
            long peakRss = 0;
            long peakAnon = 0;
            for (int run = -warmups; run < repeat; run++) {
                double deviceMBs = deviceReadThroughput(inputs.subList(0, inputs(method)));
                double readMBs = Double.NaN;
                double residentBefore = Double.NaN;
                if (cold) {
                    PageCache.evict(inputs.subList(0, inputs(method)));
                    residentBefore = PageCache.residentFraction(inputs.subList(0, inputs(method)));
                } else {
                    readMBs = readThroughput(inputs.subList(0, inputs(method)));
                }
                Path out = dir.resolve("out-" + method);
                RssSampler rss = new RssSampler();
                resetHeapPeaks();
                MergeResult r;
                Thread sampler = Thread.ofPlatform().daemon().start(rss);
                long cpu0 = processCpuNanos();
                double kernel0 = kernelCpuSeconds();
                try (MergePlan plan = MergePlan.create(RecipeParser.read(recipe), dir::resolve)) {
                    r = MergeExecutor.run(plan, out, new MergeExecutor.Options(MergeExecutor.DEFAULT_MAX_SHARD_BYTES,
                            TensorMerge.DEFAULT_CHUNK, threads), MergeProgress.NONE);
                } finally {
                    rss.stop();
                    sampler.join();
                }
                double cpuSeconds = (processCpuNanos() - cpu0) / 1e9;
                double kernelSeconds = kernelCpuSeconds() - kernel0;
                deleteRecursively(out);
                if (run < 0) {
                    continue;
                }
                read[run] = readMBs;
                resident[run] = residentBefore;
                device[run] = deviceMBs;
                cpu[run] = cpuSeconds;
                kernel[run] = kernelSeconds;
                seconds[run] = r.elapsed().toNanos() / 1e9;
                inputBytes = r.inputBytes();
                peakHeap = Math.max(peakHeap, heapPeakBytes());
                peakRss = Math.max(peakRss, rss.peakRss);
                peakAnon = Math.max(peakAnon, rss.peakAnon);
            }
            double gb = inputBytes / 1e9;
            double mbs = inputBytes / 1e6 / median(seconds);
            double readMBs = median(read);
            double deviceMBs = median(device);
            String pageCache = cold ? "– | –" : String.format(Locale.ROOT, "%.0f | %.0f%%", readMBs, 100 * mbs / readMBs);
            System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.2f (%.2f) | %.2f | %.0f | %.0f | %.0f%% | %s"
                            + " | %.0f%% | %d | %d (%d) |%n",
                    method, threads, gb, median(seconds), median(cpu), median(kernel), median(cpu) / gb, mbs, deviceMBs,
                    100 * mbs / deviceMBs, pageCache, 100 * mbs / copyMBs, peakHeap >> 20,
                    peakRss >> 10, peakAnon >> 10);
            System.out.printf(Locale.ROOT, "    runs: seconds %s, CPU seconds %s, kernel %s, device read MB/s %s, %s%n",
                    list(seconds, "%.2f"), list(cpu, "%.2f"), list(kernel, "%.2f"), list(device, "%.0f"), cold
                            ? "inputs cached before the merge " + list(Arrays.stream(resident).map(f -> 100 * f).toArray(), "%.1f%%")
                            : "page-cache read MB/s " + list(read, "%.0f"));
        }
        System.out.printf(Locale.ROOT, "load after: %s%n", Files.readString(Path.of("/proc/loadavg")).strip());
    }

    /** Models read by a method's recipe below: slerp reads two, the others three. */
    private static int inputs(String method) {
        return method.equals("slerp") ? 2 : 3;
    }

    private static String recipe(String method) {
        return switch (method) {
            case "linear" -> "merge_method: linear\nmodels: [{model: base}, {model: a}, {model: b}]\n";
            case "slerp" -> "merge_method: slerp\nbase_model: base\nparameters: {t: 0.3}\nmodels: [{model: base}, {model: a}]\n";
            case "task_arithmetic" -> "merge_method: task_arithmetic\nbase_model: base\nparameters: {weight: 0.5}\n"
                    + "models: [{model: base}, {model: a}, {model: b}]\n";
            default -> "merge_method: " + method + "\nbase_model: base\nparameters: {weight: 0.5, density: 0.5}\n"
                    + "models: [{model: base}, {model: a}, {model: b}]\n";
        };
    }

    /** Writes a random F16 model; tensors are filled off-heap, so the heap stays small while writing. */
    private static long writeModel(Path dir, Shape shape, long seed) throws IOException {
        int hidden = shape.hidden();
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
                 "intermediate_size": %d, "vocab_size": %d, "torch_dtype": "float16"}
                """.formatted(hidden, shape.layers(), hidden / 64, shape.kv() / 64, shape.mlp(), shape.vocab()));
        List<TensorInfo> tensors = new ArrayList<>();
        tensors.add(new TensorInfo("model.embed_tokens.weight", DType.F16, new long[] {shape.vocab(), hidden}));
        for (int l = 0; l < shape.layers(); l++) {
            String p = "model.layers." + l + ".";
            tensors.add(new TensorInfo(p + "input_layernorm.weight", DType.F16, new long[] {hidden}));
            tensors.add(new TensorInfo(p + "self_attn.q_proj.weight", DType.F16, new long[] {hidden, hidden}));
            tensors.add(new TensorInfo(p + "self_attn.k_proj.weight", DType.F16, new long[] {shape.kv(), hidden}));
            tensors.add(new TensorInfo(p + "self_attn.v_proj.weight", DType.F16, new long[] {shape.kv(), hidden}));
            tensors.add(new TensorInfo(p + "self_attn.o_proj.weight", DType.F16, new long[] {hidden, hidden}));
            tensors.add(new TensorInfo(p + "post_attention_layernorm.weight", DType.F16, new long[] {hidden}));
            tensors.add(new TensorInfo(p + "mlp.gate_proj.weight", DType.F16, new long[] {shape.mlp(), hidden}));
            tensors.add(new TensorInfo(p + "mlp.up_proj.weight", DType.F16, new long[] {shape.mlp(), hidden}));
            tensors.add(new TensorInfo(p + "mlp.down_proj.weight", DType.F16, new long[] {hidden, shape.mlp()}));
        }
        tensors.add(new TensorInfo("model.norm.weight", DType.F16, new long[] {hidden}));
        tensors.add(new TensorInfo("lm_head.weight", DType.F16, new long[] {shape.vocab(), hidden}));
        // One random pattern of 2^16 values (uniform in ±0.035, std 0.02) tiled from a random offset per tensor:
        // the values do not change any method's speed, and tiling writes gigabytes at memory speed.
        SplittableRandom random = new SplittableRandom(seed);
        short[] pattern = new short[1 << 16];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = Float.floatToFloat16((float) ((random.nextInt() >> 8) * (0.035 / (1 << 23))));
        }
        long total = 0;
        try (CheckpointWriter w = CheckpointWriter.create(dir, tensors, Map.of("format", "pt"), 5_000_000_000L)) {
            for (TensorInfo t : tensors) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment s = arena.allocate(t.byteSize(), 8);
                    int offset = random.nextInt(pattern.length);
                    for (long i = 0; i < t.elements(); ) {
                        int n = (int) Math.min(pattern.length - offset, t.elements() - i);
                        MemorySegment.copy(pattern, offset, s, U16_LE, i * 2, n);
                        i += n;
                        offset = 0;
                    }
                    w.write(t.name(), s);
                }
                total += t.byteSize();
            }
            w.commit();
        }
        return total;
    }

    /**
     * Reads files front to back into one reused direct buffer, returning MB/s: the bandwidth a merge of them could
     * reach from the same page-cache state.
     */
    private static double readThroughput(List<Path> files) throws IOException {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(8 << 20);
        long t0 = System.nanoTime();
        long size = 0;
        for (Path file : files) {
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    size += n;
                    buffer.clear();
                }
            }
        }
        return size / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Reads files front to back with {@code O_DIRECT}, returning MB/s: the storage device's sequential read bandwidth,
     * whatever the page cache holds. Direct I/O needs the buffer's address, the file position and the length to be
     * multiples of the file system's block size; the buffer (8 MiB) is, and so is every position before the short
     * read at end of file.
     */
    private static double deviceReadThroughput(List<Path> files) throws IOException {
        int block = Math.toIntExact(Files.getFileStore(files.getFirst()).getBlockSize());
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect((8 << 20) + block).alignedSlice(block);
        long t0 = System.nanoTime();
        long size = 0;
        for (Path file : files) {
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
                // stop at the end rather than reading for -1: after the short last read the position is unaligned
                long end = in.size();
                while (in.position() < end) {
                    size += in.read(buffer);
                    buffer.clear();
                }
            }
        }
        return size / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }

    private static String list(double[] values, String format) {
        return Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, format, v))
                .collect(java.util.stream.Collectors.joining(" "));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Copies a file with the kernel's copy path (no heap), returning MB/s of bytes read. */
    private static double copyThroughput(Path from, Path to) throws IOException {
        long t0 = System.nanoTime();
        long size;
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            size = in.size();
            long pos = 0;
            while (pos < size) {
                pos += in.transferTo(pos, size - pos, out);
            }
            out.force(true);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Files.delete(to);
        return size / 1e6 / seconds;
    }

    /**
     * CPU time of the whole process (every merge thread, the sampler, the JIT, GC): on a shared machine the wall time
     * depends on what else runs, the CPU time much less.
     */
    /** System (kernel) CPU seconds of the process so far: page faults, file writes, fsync, madvise. */
    private static double kernelCpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        // fields after the parenthesized command name; stime is field 15 of the whole line, in clock ticks (100/s)
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[12]) / 100.0;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static void resetHeapPeaks() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    private static long heapPeakBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Samples VmRSS and RssAnon (kB) from /proc/self/status every 20 ms. */
    private static final class RssSampler implements Runnable {
        volatile boolean running = true;
        long peakRss;
        long peakAnon;

        void stop() {
            running = false;
        }

        @Override
        public void run() {
            while (running) {
                sample();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
            sample();
        }

        private void sample() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        peakRss = Math.max(peakRss, kb(line));
                    } else if (line.startsWith("RssAnon:")) {
                        peakAnon = Math.max(peakAnon, kb(line));
                    }
                }
            } catch (IOException e) {
                running = false;
            }
        }

        private static long kb(String line) {
            return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
