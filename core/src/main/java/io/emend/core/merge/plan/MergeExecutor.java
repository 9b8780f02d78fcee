package io.emend.core.merge.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.TensorSink;
import io.emend.core.merge.TensorView;
import io.emend.core.merge.adamerging.LearnedCoefficients;
import io.emend.core.merge.recipe.MergeRecipe;
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
import java.util.stream.Stream;

/**
 * Runs a {@link MergePlan} into a Hugging Face model directory, one tensor at a time.
 *
 * <p>Memory stays bounded by one output tensor plus a few chunks, whatever the model size: inputs are read in
 * chunks straight from their memory mapping; each result is assembled off-heap in its output dtype, handed to the
 * {@link CheckpointWriter} and freed; and the pages of the inputs just used are released
 * ({@link MemorySegment#unload()}), so mapped files do not pile up in the process's resident set either.
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

    /**
     * @param maxShardBytes largest shard of the output
     * @param chunk         elements per chunk read from each input
     */
    public record Options(long maxShardBytes, int chunk) {
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
            try (CheckpointWriter writer = CheckpointWriter.create(work, outputs, Map.of("format", "pt"),
                    options.maxShardBytes())) {
                int done = 0;
                for (PlannedTensor t : plan.tensors()) {
                    inputBytes += mergeOne(plan, t, writer, options.chunk());
                    outputBytes += t.output().byteSize();
                    progress.tensorDone(++done, plan.tensors().size(), t.output().name());
                }
                writer.commit();
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

    private static long mergeOne(MergePlan plan, PlannedTensor t, CheckpointWriter writer, int chunk) throws IOException {
        List<MemorySegment> used = new ArrayList<>();
        Optional<TensorView> base = t.base().map(in -> view(in, used));
        List<TensorView> models = t.models().stream().map(in -> view(in, used)).toList();
        long inputBytes = used.stream().mapToLong(MemorySegment::byteSize).sum();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(Math.max(1, t.output().byteSize()), Long.BYTES)
                    .asSlice(0, t.output().byteSize());
            plan.recipe().method().merge(new TensorMerge(t.output().name(), base, models, t.modelParameters(),
                    t.global(), plan.recipe().seed(), TensorSink.of(out, t.output().dtype()), chunk));
            writer.write(t.output().name(), out);
        }
        for (MemorySegment s : used) {
            if (s.isMapped()) {
                s.unload();
            }
        }
        return inputBytes;
    }

    private static TensorView view(PlannedTensor.Input in, List<MemorySegment> used) {
        MemorySegment bytes = in.source().bytes(in.tensor().name());
        used.add(bytes);
        return TensorView.of(bytes, in.tensor().dtype(), "tensor '" + in.tensor().name() + "' of model '" + in.model() + "'");
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
