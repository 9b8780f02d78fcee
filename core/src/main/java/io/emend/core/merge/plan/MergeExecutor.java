package io.emend.core.merge.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.TensorSink;
import io.emend.core.merge.TensorView;
import io.emend.core.merge.adamerging.LearnedCoefficients;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Runs a {@link MergePlan} into a Hugging Face model directory, one tensor at a time; for element-wise methods
 * (linear, task arithmetic, DARE) disjoint ranges of each large tensor are merged on {@link Options#threads()} threads.
 *
 * <p>Memory stays bounded by two output tensors plus a few chunks, whatever the model size: inputs are read in
 * chunks straight from their memory mapping; each result is assembled in its output dtype in one of two off-heap
 * buffers the size of the largest output tensor, reused for every tensor, and written by the {@link OutputWriter}'s
 * thread while the next tensor is merged into the other buffer; and
 * the pages of the inputs just used are released ({@link MemorySegment#unload()}), so mapped files do not pile up
 * in the process's resident set either.
 *
 * <p>Everything is written to a hidden sibling directory that is renamed onto the target only when complete, so
 * a failed or interrupted merge never leaves a directory that looks like a model.
 */
public final class MergeExecutor {

    /** Hugging Face's default shard size for {@code save_pretrained} (5 GB). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    /** Files of a Hugging Face tokenizer, copied from the reference model when present. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json",
            "generation_config.json");
    /** The recipe is kept beside the merged model ({@code merge_recipe.yml} or {@code .json}), as mergekit keeps its YAML. */
    public static final String RECIPE_FILE_STEM = "merge_recipe";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Elements below which a tensor is merged on one thread: splitting it would cost more than it saves. */
    static final long MIN_RANGE = 1 << 16;

    /**
     * @param maxShardBytes largest shard of the output
     * @param chunk         elements per chunk read from each input
     * @param threads       threads that merge disjoint ranges of one tensor, for methods whose elements are
     *                      independent ({@link io.emend.core.merge.MergeMethod#elementwise()})
     */
    public record Options(long maxShardBytes, int chunk, int threads) {
        public Options {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be positive, got " + threads);
            }
        }

        /** One thread per available processor. */
        public Options(long maxShardBytes, int chunk) {
            this(maxShardBytes, chunk, Runtime.getRuntime().availableProcessors());
        }

        public static Options defaults() {
            return new Options(DEFAULT_MAX_SHARD_BYTES, TensorMerge.DEFAULT_CHUNK);
        }
    }

    private MergeExecutor() {
    }

    /**
     * Merges into {@code target}, which must not exist or be an empty directory.
     *
     * @throws DirectoryNotEmptyException when {@code target} holds files
     */
    public static MergeResult run(MergePlan plan, Path target, Options options, MergeProgress progress)
            throws IOException {
        long started = System.nanoTime();
        target = target.toAbsolutePath().normalize();
        if (Files.isDirectory(target)) {
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) {
                    throw new DirectoryNotEmptyException(target + " (the merge writes a new model directory)");
                }
            }
        } else if (Files.exists(target)) {
            throw new IOException(target + " exists and is not a directory");
        }
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path work = Files.createTempDirectory(parent, "." + target.getFileName() + ".partial-");
        try {
            long inputBytes = 0;
            long outputBytes = 0;
            List<TensorInfo> outputs = plan.tensors().stream().map(PlannedTensor::output).toList();
            ExecutorService pool = options.threads() > 1 && plan.recipe().method().elementwise()
                    ? Executors.newFixedThreadPool(options.threads(), Thread.ofPlatform().daemon().name("merge-", 0).factory())
                    : null;
            long largest = outputs.stream().mapToLong(TensorInfo::byteSize).max().orElse(0);
            int[] written = {0};
            try (Arena arena = Arena.ofShared();
                 CheckpointWriter writer = CheckpointWriter.create(work, outputs, Map.of("format", "pt"),
                    options.maxShardBytes());
                 OutputWriter output = new OutputWriter(writer, arena, largest,
                         name -> progress.tensorDone(++written[0], plan.tensors().size(), name))) {
                for (PlannedTensor t : plan.tensors()) {
                    MemorySegment out = output.buffer(t.output().byteSize());
                    inputBytes += mergeOne(plan, t, options, pool, out);
                    output.write(t.output().name(), out);
                    outputBytes += t.output().byteSize();
                }
                output.finish();
                writer.commit();
            } finally {
                if (pool != null) {
                    pool.shutdownNow();
                }
            }
            Files.writeString(work.resolve("config.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(plan.outputConfig()));
            for (String file : TOKENIZER_FILES) {
                Path from = plan.referenceDirectory().resolve(file);
                if (Files.isRegularFile(from)) {
                    Files.copy(from, work.resolve(file));
                }
            }
            MergeRecipe.Source recipe = plan.recipe().source();
            Files.writeString(work.resolve(RECIPE_FILE_STEM + (recipe.json() ? ".json" : ".yml")), recipe.text());
            if (plan.learned().isPresent()) {
                Files.writeString(work.resolve(LearnedCoefficients.FILE_NAME), plan.learned().get().toJson());
            }
            if (Files.isDirectory(target)) {
                Files.delete(target);
            }
            Files.move(work, target, StandardCopyOption.ATOMIC_MOVE);
            List<String> files;
            try (Stream<Path> s = Files.list(target)) {
                files = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            return new MergeResult(target, plan.tensors().size(), inputBytes, outputBytes,
                    Duration.ofNanos(System.nanoTime() - started), files);
        } finally {
            deleteRecursively(work);
        }
    }

    /** Merges one tensor into {@code out}; returns the input bytes it read. */
    private static long mergeOne(MergePlan plan, PlannedTensor t, Options options, ExecutorService pool,
                                 MemorySegment out) throws IOException {
        List<MemorySegment> used = new ArrayList<>();
        Optional<MemorySegment> base = t.base().map(in -> bytes(in, used));
        List<MemorySegment> models = t.models().stream().map(in -> bytes(in, used)).toList();
        long inputBytes = used.stream().mapToLong(MemorySegment::byteSize).sum();
        long elements = t.output().elements();
        int ranges = pool == null ? 1 : (int) Math.min(options.threads(), elements / MIN_RANGE);
        if (ranges <= 1) {
            mergeRange(plan, t, base, models, out, 0, elements, options.chunk());
        } else {
            List<Future<?>> parts = new ArrayList<>();
            for (int r = 0; r < ranges; r++) {
                long from = elements * r / ranges;
                long to = elements * (r + 1) / ranges;
                parts.add(pool.submit(() -> mergeRange(plan, t, base, models, out, from, to, options.chunk())));
            }
            await(parts);
        }
        for (MemorySegment s : used) {
            if (s.isMapped()) {
                s.unload();
            }
        }
        return inputBytes;
    }

    /**
     * Merges elements {@code [from, to)} of one tensor: views over those elements of every input and a sink over the
     * same elements of the output (views and sinks keep scratch buffers, so each range gets its own).
     */
    private static void mergeRange(MergePlan plan, PlannedTensor t, Optional<MemorySegment> base,
                                   List<MemorySegment> models, MemorySegment out, long from, long to, int chunk) {
        Optional<TensorView> baseView = t.base().map(in -> view(in, base.orElseThrow(), from, to));
        List<TensorView> modelViews = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            modelViews.add(view(t.models().get(i), models.get(i), from, to));
        }
        DType dtype = t.output().dtype();
        MemorySegment slice = out.asSlice(from * dtype.bytes(), (to - from) * dtype.bytes());
        plan.recipe().method().merge(new TensorMerge(t.output().name(), baseView, modelViews, t.modelParameters(),
                t.global(), plan.recipe().seed(), TensorSink.of(slice, dtype), chunk, from));
    }

    private static void await(List<Future<?>> parts) throws IOException {
        try {
            for (Future<?> f : parts) {
                f.get();
            }
        } catch (ExecutionException e) {
            parts.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            parts.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while merging");
        }
    }

    private static MemorySegment bytes(PlannedTensor.Input in, List<MemorySegment> used) {
        MemorySegment bytes = in.source().bytes(in.tensor().name());
        used.add(bytes);
        return bytes;
    }

    /** Elements {@code [from, to)} of an input; messages name the element's index in the whole tensor. */
    private static TensorView view(PlannedTensor.Input in, MemorySegment bytes, long from, long to) {
        long size = in.tensor().dtype().bytes();
        String label = "tensor '" + in.tensor().name() + "' of model '" + in.model() + "'"
                + (from == 0 ? "" : " (elements from " + from + ")");
        return TensorView.of(bytes.asSlice(from * size, (to - from) * size), in.tensor().dtype(), label);
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
