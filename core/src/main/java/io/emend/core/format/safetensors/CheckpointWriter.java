package io.emend.core.format.safetensors;

import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Writes a model directory's weights as Hugging Face lays them out: {@code model.safetensors} when everything fits
 * one shard, otherwise {@code model-0000k-of-0000n.safetensors} plus {@code model.safetensors.index.json}.
 *
 * <p>Tensors are declared up front (the shard plan and every header depend on their sizes) and then streamed in
 * order. Each shard is written through a {@link SafetensorsWriter} (temporary file, atomic rename); the index is
 * renamed into place last, after all shards, so a directory with an index always has all its shards.
 * Existing weight files in the directory are never overwritten: write a new version into a fresh directory.
 */
public final class CheckpointWriter implements AutoCloseable {

    private final Path dir;
    private final List<List<TensorInfo>> plan;
    private final List<String> shardNames;
    private final Map<String, String> metadata;
    private final List<SafetensorsWriter> committedShards = new ArrayList<>();
    private SafetensorsWriter current;
    private int shard = -1;
    private boolean committed;

    private CheckpointWriter(Path dir, List<List<TensorInfo>> plan, Map<String, String> metadata) {
        this.dir = dir;
        this.plan = plan;
        this.metadata = Map.copyOf(metadata);
        this.shardNames = shardNames(plan.size());
    }

    /**
     * Plans and starts writing.
     *
     * @param maxShardBytes largest data size of one shard; a single tensor larger than this gets a shard of its own
     */
    public static CheckpointWriter create(Path dir, List<TensorInfo> tensors, Map<String, String> metadata,
                                          long maxShardBytes) throws IOException {
        List<List<TensorInfo>> plan = plan(tensors, maxShardBytes);
        for (String name : shardNames(plan.size())) {
            SafetensorsWriter.requireAbsent(dir.resolve(name));
        }
        SafetensorsWriter.requireAbsent(dir.resolve(ShardIndex.FILE_NAME));
        SafetensorsWriter.requireAbsent(dir.resolve(ShardedCheckpoint.SINGLE_FILE));
        Files.createDirectories(dir);
        return new CheckpointWriter(dir, plan, metadata);
    }

    /** Copies every tensor of {@code source}, unchanged, into a new checkpoint in {@code dir}. */
    public static void copy(TensorSource source, Path dir, Map<String, String> metadata, long maxShardBytes)
            throws IOException {
        try (CheckpointWriter w = create(dir, source.tensors(), metadata, maxShardBytes)) {
            for (TensorInfo t : source.tensors()) {
                w.write(t.name(), source.bytes(t.name()));
            }
            w.commit();
        }
    }

    /** Splits tensors, in order, into shards of at most {@code maxShardBytes} (greedy, as transformers does). */
    public static List<List<TensorInfo>> plan(List<TensorInfo> tensors, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
        }
        List<List<TensorInfo>> shards = new ArrayList<>();
        List<TensorInfo> current = new ArrayList<>();
        long size = 0;
        for (TensorInfo t : tensors) {
            if (!current.isEmpty() && size + t.byteSize() > maxShardBytes) {
                shards.add(List.copyOf(current));
                current.clear();
                size = 0;
            }
            current.add(t);
            size += t.byteSize();
        }
        shards.add(List.copyOf(current));
        return List.copyOf(shards);
    }

    /** {@code model.safetensors} for one shard, else {@code model-00001-of-0000n.safetensors} and so on. */
    public static List<String> shardNames(int count) {
        if (count == 1) {
            return List.of(ShardedCheckpoint.SINGLE_FILE);
        }
        List<String> names = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            names.add(String.format("model-%05d-of-%05d.safetensors", i, count));
        }
        return names;
    }

    /** The shard files this writer produces, in order. */
    public List<String> files() {
        return shardNames;
    }

    /** Appends the stored bytes of the next declared tensor. */
    public void write(String name, MemorySegment bytes) throws IOException {
        writer(name).write(name, bytes);
    }

    /** Appends F32 values of the next declared tensor, narrowed to its dtype. */
    public void write(String name, float[] values) throws IOException {
        writer(name).write(name, values);
    }

    private SafetensorsWriter writer(String name) throws IOException {
        while (current == null || current.nextTensor() == null) {
            if (current != null) {
                current.commit();
                committedShards.add(current);
                current = null;
            }
            if (shard + 1 >= plan.size()) {
                throw new IllegalStateException("tensor '" + name + "' was not declared; all declared tensors are written");
            }
            shard++;
            current = SafetensorsWriter.create(dir.resolve(shardNames.get(shard)), plan.get(shard), metadata);
        }
        return current;
    }

    /** Finishes the last shard and, for more than one shard, writes the index. */
    public void commit() throws IOException {
        if (committed) {
            return;
        }
        if (current == null && !plan.getFirst().isEmpty()) {
            throw new IllegalStateException("no tensor was written to " + dir);
        }
        if (current == null) {
            current = SafetensorsWriter.create(dir.resolve(shardNames.getFirst()), List.of(), metadata);
        }
        current.commit();
        committedShards.add(current);
        current = null;
        if (shard < plan.size() - 1) {
            throw new IllegalStateException("shard " + shardNames.get(shard + 1) + " was planned but not written");
        }
        if (plan.size() > 1) {
            Map<String, String> weightMap = new LinkedHashMap<>();
            long total = 0;
            for (int i = 0; i < plan.size(); i++) {
                for (TensorInfo t : plan.get(i)) {
                    weightMap.put(t.name(), shardNames.get(i));
                    total += t.byteSize();
                }
            }
            String json = new ShardIndex(weightMap, OptionalLong.of(total)).toJson();
            Path temp = Files.createTempFile(dir, "." + ShardIndex.FILE_NAME + ".", ".tmp");
            try {
                Files.writeString(temp, json, StandardCharsets.UTF_8);
                SafetensorsWriter.moveAtomically(temp, dir.resolve(ShardIndex.FILE_NAME));
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        committed = true;
    }

    /**
     * Abandons an uncommitted write: the shard being written is discarded and shards already renamed into place
     * are deleted, so no partial checkpoint is left behind.
     */
    @Override
    public void close() throws IOException {
        if (committed) {
            return;
        }
        if (current != null) {
            current.close();
        }
        for (int i = 0; i < committedShards.size(); i++) {
            Files.deleteIfExists(dir.resolve(shardNames.get(i)));
        }
    }
}
