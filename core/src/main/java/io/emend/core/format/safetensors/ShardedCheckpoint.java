package io.emend.core.format.safetensors;

import io.emend.core.format.MalformedFileException;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * The weights of a Hugging Face model directory: one safetensors file, or shards listed by
 * {@code model.safetensors.index.json}. Every shard is memory-mapped; nothing is loaded until asked for.
 * The tensors exposed are exactly the index's {@code weight_map}, each of which must be present in the shard it names.
 */
public final class ShardedCheckpoint implements TensorSource {

    /** The single-file weights name Hugging Face writes. */
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path indexFile;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> owner;
    private final List<TensorInfo> tensors;

    private ShardedCheckpoint(Path indexFile, List<SafetensorsFile> shards, Map<String, SafetensorsFile> owner,
                              List<TensorInfo> tensors) {
        this.indexFile = indexFile;
        this.shards = List.copyOf(shards);
        this.owner = Collections.unmodifiableMap(owner);
        this.tensors = List.copyOf(tensors);
    }

    /**
     * Opens a model directory's weights.
     *
     * @param dir              the model directory
     * @param weightsFileName  a file inside {@code dir}: a {@code .safetensors} file or a shard index
     *                         ({@code *.index.json}); when empty, {@code model.safetensors} if present, else the index
     * @throws IOException            when the directory or a named file does not exist or cannot be mapped
     * @throws MalformedFileException when a file is invalid, or the name leaves the directory
     */
    public static TensorSource open(Path dir, Optional<String> weightsFileName) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a model directory");
        }
        String name;
        if (weightsFileName.isPresent()) {
            name = weightsFileName.get();
            if (!ShardIndex.isPlainFileName(name)) {
                throw new MalformedFileException(dir, "weights file '" + name + "' must be a file name inside the directory");
            }
        } else if (Files.exists(dir.resolve(SINGLE_FILE))) {
            name = SINGLE_FILE;
        } else if (Files.exists(dir.resolve(ShardIndex.FILE_NAME))) {
            name = ShardIndex.FILE_NAME;
        } else {
            throw new NoSuchFileException(dir.toString(), null,
                    "neither " + SINGLE_FILE + " nor " + ShardIndex.FILE_NAME + " in the model directory");
        }
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such weights file");
        }
        return name.endsWith(".index.json") ? openIndex(file) : SafetensorsFile.open(file);
    }

    /** Opens the shards an index file lists (they sit next to it). */
    public static ShardedCheckpoint openIndex(Path indexFile) throws IOException {
        ShardIndex index = ShardIndex.read(indexFile);
        Path dir = indexFile.toAbsolutePath().getParent();
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byShard = new LinkedHashMap<>();
            for (String shard : index.shards()) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(shard));
                opened.add(f);
                byShard.put(shard, f);
            }
            Map<String, SafetensorsFile> owner = new LinkedHashMap<>();
            List<TensorInfo> tensors = new ArrayList<>();
            for (SafetensorsFile f : opened) {
                for (TensorInfo t : f.tensors()) {
                    String listed = index.weightMap().get(t.name());
                    if (listed != null && byShard.get(listed) == f) {
                        owner.put(t.name(), f);
                        tensors.add(t);
                    }
                }
            }
            for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
                if (!owner.containsKey(e.getKey())) {
                    throw new MalformedFileException(indexFile, "weight_map." + e.getKey() + " names shard "
                            + e.getValue() + ", which has no such tensor");
                }
            }
            return new ShardedCheckpoint(indexFile, opened, owner, tensors);
        } catch (IOException | RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The mapped shards, in index order. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public Optional<TensorInfo> find(String name) {
        SafetensorsFile f = owner.get(name);
        return f == null ? Optional.empty() : f.find(name);
    }

    @Override
    public MemorySegment bytes(String name) {
        return shardOf(name).bytes(name);
    }

    @Override
    public float[] floats(String name) {
        return shardOf(name).floats(name);
    }

    private SafetensorsFile shardOf(String name) {
        SafetensorsFile f = owner.get(name);
        if (f == null) {
            throw new NoSuchElementException(indexFile + ": no tensor '" + name + "'");
        }
        return f;
    }

    @Override
    public void close() {
        shards.forEach(SafetensorsFile::close);
    }
}
