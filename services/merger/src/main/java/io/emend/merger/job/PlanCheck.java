package io.emend.merger.job;

import io.emend.core.format.MalformedFileException;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.merger.MergerConfig;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Checks a recipe against its pinned input versions before the job is queued, from their metadata alone: each input
 * is laid out in a scratch directory with its small files (config, tokenizer and other JSON, text and
 * SentencePiece files, fetched through the content-addressed cache) and, for each safetensors file, only its header,
 * read with two ranged requests and written into a sparse file of the real size, so core's {@link MergePlan#check}
 * plans on it exactly as the job would plan on the real files. A large model's headers are a few hundred KB; its
 * weights are never read.
 *
 * <p>What this cannot see is what only the data shows (NaN or infinite weights): the job finds those while merging
 * and fails with the same problem type.
 */
@ApplicationScoped
public class PlanCheck {

    /** Small files the planner may read (config.json, tokenizer.json, a shard index, merges.txt, tokenizer.model). */
    private static final List<String> SMALL_FILES = List.of(".json", ".txt", ".model");
    private static final String WEIGHTS = ".safetensors";
    /** safetensors: an unsigned 64-bit little-endian header length, then the header. */
    private static final int LENGTH_BYTES = Long.BYTES;
    /**
     * The largest header read: the safetensors reference implementation refuses headers over 100 MB, and a model
     * of thousands of tensors needs well under 1 MB.
     */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private final RegistryClient registry;
    private final InputCache cache;
    private final Path scratchRoot;

    PlanCheck(RegistryClient registry, InputCache cache, MergerConfig config) {
        this.registry = registry;
        this.cache = cache;
        this.scratchRoot = config.storage().workDir().toAbsolutePath();
    }

    /**
     * @param inputs each model reference of the recipe, as written, with the version it resolved to
     * @throws IncompatibleInputs when the models cannot be merged as the recipe asks; nothing is left on disk
     */
    public void check(MergeRecipe recipe, Map<String, ResolvedVersion> inputs) throws IOException {
        Path scratch = scratchRoot.resolve("check-" + UUID.randomUUID());
        Map<String, Path> dirs = new LinkedHashMap<>();
        try {
            int i = 0;
            for (Map.Entry<String, ResolvedVersion> input : inputs.entrySet()) {
                dirs.put(input.getKey(), outline(input.getValue(), scratch.resolve(Integer.toString(i++))));
            }
            MergePlan.check(recipe, dirs::get);
        } catch (MergeException e) {
            throw new IncompatibleInputs(withoutPaths(e.getMessage(), dirs, inputs));
        } catch (MalformedFileException e) {
            throw new IncompatibleInputs(malformed(e, dirs, inputs));
        } finally {
            JobRunner.deleteRecursively(scratch);
        }
    }

    /** The version as a model directory with its small files and its safetensors headers. */
    private Path outline(ResolvedVersion version, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (ResolvedVersion.ManifestEntry entry : version.manifest()) {
            Path file = InputCache.placeOf(version, entry, dir);
            String name = entry.path();
            if (name.endsWith(WEIGHTS)) {
                Files.createDirectories(file.getParent());
                header(version, entry, file);
            } else if (SMALL_FILES.stream().anyMatch(name::endsWith)) {
                Files.createDirectories(file.getParent());
                Files.createSymbolicLink(file, cache.blob(entry));
            }
        }
        return dir;
    }

    /**
     * Writes the safetensors file's length field and header at the start of a sparse file of its real size: the
     * reader validates data offsets against the size and maps the file, but planning touches no data page.
     */
    private void header(ResolvedVersion version, ResolvedVersion.ManifestEntry entry, Path file) throws IOException {
        String what = "model '" + version.exactRef() + "' file '" + entry.path() + "'";
        if (entry.size() < LENGTH_BYTES) {
            throw new IncompatibleInputs(what + ": " + entry.size() + " bytes is too short for a safetensors file");
        }
        byte[] length = registry.readBlobRange(entry.sha256(), 0, LENGTH_BYTES);
        long headerBytes = ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerBytes < 0 || headerBytes > MAX_HEADER_BYTES || headerBytes > entry.size() - LENGTH_BYTES) {
            throw new IncompatibleInputs(what + ": the safetensors header length " + Long.toUnsignedString(headerBytes)
                    + " does not fit a file of " + entry.size() + " bytes (at most " + MAX_HEADER_BYTES + ")");
        }
        byte[] header = registry.readBlobRange(entry.sha256(), LENGTH_BYTES, (int) headerBytes);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.write(length);
            out.write(header);
            out.setLength(entry.size());
        }
    }

    /** Core names a model's directory in some messages; the caller knows it as its version. */
    private static String withoutPaths(String message, Map<String, Path> dirs, Map<String, ResolvedVersion> inputs) {
        String text = message;
        for (Map.Entry<String, Path> dir : dirs.entrySet()) {
            text = text.replace(dir.getValue().toString(), "version " + inputs.get(dir.getKey()).exactRef());
        }
        return text;
    }

    /** A file that core cannot read, named by its model and path in the version, never by its scratch path. */
    private static String malformed(MalformedFileException e, Map<String, Path> dirs,
                                    Map<String, ResolvedVersion> inputs) {
        Path file = Path.of(e.file()).toAbsolutePath().normalize();
        for (Map.Entry<String, Path> dir : dirs.entrySet()) {
            if (file.startsWith(dir.getValue())) {
                return "model '" + dir.getKey() + "' (" + inputs.get(dir.getKey()).exactRef() + ") file '"
                        + dir.getValue().relativize(file) + "': " + e.detail();
            }
        }
        return "an input model's file cannot be read: " + e.detail();
    }
}
