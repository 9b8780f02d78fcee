package io.emend.core.format.safetensors;

import io.emend.core.format.Fixtures;
import io.emend.core.format.MalformedFileException;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardedCheckpointTest {

    @TempDir
    Path tmp;

    private static final Path TINY_LLAMA = Fixtures.model("tiny-llama");

    @Test
    void defaultsToModelSafetensors() throws IOException {
        try (TensorSource s = ShardedCheckpoint.open(TINY_LLAMA, Optional.empty())) {
            assertInstanceOf(SafetensorsFile.class, s);
            assertEquals(21, s.tensors().size());
        }
    }

    @Test
    void namedWeightsFile() throws IOException {
        try (TensorSource s = ShardedCheckpoint.open(TINY_LLAMA, Optional.of("model.bf16.safetensors"))) {
            assertEquals(io.emend.core.tensor.DType.BF16, s.tensors().getFirst().dtype());
        }
    }

    /** Splits tiny-llama into two shards plus an index and checks every tensor reads back bit for bit. */
    @Test
    void readsShardsThroughTheIndex() throws IOException {
        try (SafetensorsFile whole = SafetensorsFile.open(TINY_LLAMA.resolve("model.safetensors"))) {
            List<String> names = whole.tensors().stream().map(TensorInfo::name).toList();
            List<String> first = names.subList(0, 10);
            List<String> second = names.subList(10, names.size());
            RawSafetensors.copyOf(tmp, "model-00001-of-00002.safetensors", whole, first);
            RawSafetensors.copyOf(tmp, "model-00002-of-00002.safetensors", whole, second);
            StringBuilder map = new StringBuilder();
            for (String n : names) {
                String shard = first.contains(n) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                map.append(map.isEmpty() ? "" : ",").append('"').append(n).append("\":\"").append(shard).append('"');
            }
            Files.writeString(tmp.resolve(ShardIndex.FILE_NAME),
                    "{\"metadata\":{\"total_size\":" + whole.tensors().stream().mapToLong(TensorInfo::byteSize).sum()
                            + "},\"weight_map\":{" + map + "}}");

            try (TensorSource sharded = ShardedCheckpoint.open(tmp, Optional.empty())) {
                ShardedCheckpoint c = assertInstanceOf(ShardedCheckpoint.class, sharded);
                assertEquals(2, c.shards().size());
                assertEquals(names.size(), sharded.tensors().size());
                for (String n : names) {
                    assertEquals(whole.find(n), sharded.find(n));
                    assertArrayEquals(whole.floats(n), sharded.floats(n), n);
                }
            }
        }
    }

    @Test
    void indexNamingATensorItsShardLacks() throws IOException {
        try (SafetensorsFile whole = SafetensorsFile.open(TINY_LLAMA.resolve("model.safetensors"))) {
            RawSafetensors.copyOf(tmp, "a.safetensors", whole, List.of("model.norm.weight"));
        }
        Files.writeString(tmp.resolve(ShardIndex.FILE_NAME),
                "{\"weight_map\":{\"model.norm.weight\":\"a.safetensors\",\"lm_head.weight\":\"a.safetensors\"}}");
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> ShardedCheckpoint.open(tmp, Optional.empty()));
        assertTrue(e.getMessage().contains("weight_map.lm_head.weight names shard a.safetensors, which has no such tensor"),
                e.getMessage());
    }

    @Test
    void indexWithPathTraversal() throws IOException {
        Files.writeString(tmp.resolve(ShardIndex.FILE_NAME), "{\"weight_map\":{\"w\":\"../../etc/passwd\"}}");
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> ShardedCheckpoint.open(tmp, Optional.empty()));
        assertTrue(e.detail().contains("weight_map.w = '../../etc/passwd' is not a plain file name"), e.detail());
    }

    @Test
    void indexThatIsNotJsonOrLacksTheMap() throws IOException {
        Files.writeString(tmp.resolve(ShardIndex.FILE_NAME), "{\"weight_map\": [");
        assertTrue(assertThrows(MalformedFileException.class, () -> ShardedCheckpoint.open(tmp, Optional.empty()))
                .detail().contains("not valid JSON"));
        Files.writeString(tmp.resolve(ShardIndex.FILE_NAME), "{\"metadata\":{}}");
        assertTrue(assertThrows(MalformedFileException.class, () -> ShardedCheckpoint.open(tmp, Optional.empty()))
                .detail().contains("weight_map is missing"));
    }

    @Test
    void indexNamingAMissingShard() throws IOException {
        Files.writeString(tmp.resolve(ShardIndex.FILE_NAME), "{\"weight_map\":{\"w\":\"gone.safetensors\"}}");
        assertThrows(NoSuchFileException.class, () -> ShardedCheckpoint.open(tmp, Optional.empty()));
    }

    @Test
    void weightsNameOutsideTheDirectory() {
        MalformedFileException e = assertThrows(MalformedFileException.class,
                () -> ShardedCheckpoint.open(TINY_LLAMA, Optional.of("../tiny-gpt2/model.safetensors")));
        assertTrue(e.detail().contains("must be a file name inside the directory"), e.detail());
    }

    @Test
    void missingDirectoryOrWeights() throws IOException {
        assertThrows(NoSuchFileException.class, () -> ShardedCheckpoint.open(tmp.resolve("nope"), Optional.empty()));
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> ShardedCheckpoint.open(tmp, Optional.empty()));
        assertTrue(e.getMessage().contains("neither model.safetensors nor model.safetensors.index.json"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> ShardedCheckpoint.open(TINY_LLAMA, Optional.of("x.safetensors")));
    }
}
