package io.emend.core.format.safetensors;

import io.emend.core.format.Fixtures;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {

    @TempDir
    Path tmp;

    private static final TensorInfo A = new TensorInfo("a", DType.F32, new long[]{2, 3});
    private static final TensorInfo B = new TensorInfo("b", DType.F16, new long[]{3});
    private static final TensorInfo C = new TensorInfo("c", DType.BF16, new long[]{1, 1, 2});

    @Test
    void roundTripsEveryDtypeAndTheMetadata() throws IOException {
        Path file = tmp.resolve("out.safetensors");
        float[] a = {1, -2, 3.5f, 0, 1e-3f, -7};
        float[] b = {0.1f, 65504f, -3e-5f};
        float[] c = {1 + 0x1p-8f, -300.5f};
        try (SafetensorsWriter w = SafetensorsWriter.create(file, List.of(A, B, C), Map.of("format", "pt"))) {
            w.write("a", a);
            w.write("b", b);
            w.write("c", c);
            w.commit();
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of(A, B, C), f.tensors());
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertArrayEquals(a, f.floats("a"));
            for (int i = 0; i < b.length; i++) {
                assertEquals(io.emend.core.tensor.HalfFloat.f16ToFloat(io.emend.core.tensor.HalfFloat.floatToF16(b[i])),
                        f.floats("b")[i], 0.0);
            }
            assertArrayEquals(new float[]{1f, -300f}, f.floats("c"),
                    "1+2^-8 ties to even 1.0; -300.5 rounds to -300 (bf16 spacing is 2 there)");
        }
        byte[] raw = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "header padded to 8 bytes");
        String header = new String(raw, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(header.strip(), header.substring(0, header.lastIndexOf('}') + 1), "JSON, then only padding");
        assertTrue(header.substring(header.lastIndexOf('}') + 1).chars().allMatch(ch -> ch == ' '), "padding is spaces");
    }

    @Test
    void copiesAFixtureBitForBit() throws IOException {
        Path source = Fixtures.model("tiny-gpt2").resolve("model.f16.safetensors");
        Path copy = tmp.resolve("copy.safetensors");
        try (SafetensorsFile in = SafetensorsFile.open(source);
             SafetensorsWriter w = SafetensorsWriter.create(copy, in.tensors(), in.metadata())) {
            for (TensorInfo t : in.tensors()) {
                w.write(t.name(), in.bytes(t.name()));
            }
            w.commit();
        }
        try (SafetensorsFile in = SafetensorsFile.open(source); SafetensorsFile out = SafetensorsFile.open(copy)) {
            assertEquals(in.tensors(), out.tensors());
            for (TensorInfo t : in.tensors()) {
                assertArrayEquals(in.bytes(t.name()).toArray(ValueLayout.JAVA_BYTE),
                        out.bytes(t.name()).toArray(ValueLayout.JAVA_BYTE), t.name());
            }
        }
    }

    @Test
    void uncommittedWriteLeavesNothing() throws IOException {
        Path file = tmp.resolve("half.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.create(file, List.of(A, B), Map.of())) {
            w.write("a", new float[6]);
            assertThrows(IllegalStateException.class, w::commit, "b was not written");
        }
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "no target and no temp file");
        }
    }

    @Test
    void rejectsMisuse() throws IOException {
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.create(tmp.resolve("x"), List.of(A, A), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.create(tmp.resolve("x"),
                List.of(new TensorInfo("__metadata__", DType.F32, new long[]{1})), Map.of()));
        try (SafetensorsWriter w = SafetensorsWriter.create(tmp.resolve("x"), List.of(A, B), Map.of())) {
            assertThrows(IllegalStateException.class, () -> w.write("b", new float[3]), "out of order");
            assertThrows(IllegalArgumentException.class, () -> w.write("a", new float[5]), "wrong element count");
            w.write("a", new float[6]);
            w.write("b", new float[3]);
            assertThrows(IllegalStateException.class, () -> w.write("c", new float[2]), "undeclared");
        }
    }

    @Test
    void shardsByMaxSizeWithIndexAndReadsBack() throws IOException {
        Path dir = tmp.resolve("sharded");
        try (SafetensorsFile in = SafetensorsFile.open(Fixtures.model("tiny-llama").resolve("model.safetensors"))) {
            // 100 KB shards: the fixture has ~470 KB of F32 weights, the largest tensor 64 KB.
            CheckpointWriter.copy(in, dir, Map.of("format", "pt"), 100_000);
            int shards = CheckpointWriter.plan(in.tensors(), 100_000).size();
            assertTrue(shards >= 5, "at least 470 KB / 100 KB shards");
            try (Stream<Path> files = Files.list(dir)) {
                List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
                List<String> expected = new java.util.ArrayList<>(CheckpointWriter.shardNames(shards));
                expected.add(ShardIndex.FILE_NAME);
                assertEquals(expected, names, "the shards and the index, no temp files");
            }
            ShardIndex index = ShardIndex.read(dir.resolve(ShardIndex.FILE_NAME));
            assertEquals(in.tensors().stream().mapToLong(TensorInfo::byteSize).sum(), index.totalSize().orElseThrow());
            try (TensorSource out = ShardedCheckpoint.open(dir, Optional.empty())) {
                ShardedCheckpoint c = assertInstanceOf(ShardedCheckpoint.class, out);
                for (SafetensorsFile shard : c.shards()) {
                    assertTrue(shard.tensors().stream().mapToLong(TensorInfo::byteSize).sum() <= 100_000);
                    assertEquals("pt", shard.metadata().get("format"));
                }
                assertEquals(in.tensors(), out.tensors());
                for (TensorInfo t : in.tensors()) {
                    assertArrayEquals(in.floats(t.name()), out.floats(t.name()), t.name());
                }
            }
        }
    }

    @Test
    void oneShardIsPlainModelSafetensors() throws IOException {
        Path dir = tmp.resolve("single");
        try (SafetensorsFile in = SafetensorsFile.open(Fixtures.model("stories260k").resolve("model.safetensors"))) {
            CheckpointWriter.copy(in, dir, Map.of(), Long.MAX_VALUE);
        }
        assertTrue(Files.exists(dir.resolve("model.safetensors")));
        assertFalse(Files.exists(dir.resolve(ShardIndex.FILE_NAME)));
        assertThrows(FileAlreadyExistsException.class, () -> CheckpointWriter.create(dir, List.of(A), Map.of(), 1));
    }

    @Test
    void planPutsAnOversizedTensorInItsOwnShard() {
        List<TensorInfo> ts = List.of(A, new TensorInfo("big", DType.F32, new long[]{100}), B, C);
        List<List<TensorInfo>> plan = CheckpointWriter.plan(ts, 30);
        assertEquals(List.of(List.of(A), List.of(ts.get(1)), List.of(B, C)), plan);
        assertEquals(List.of("model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors"), CheckpointWriter.shardNames(3));
        assertThrows(IllegalArgumentException.class, () -> CheckpointWriter.plan(ts, 0));
    }

    @Test
    void abandonedShardedWriteRemovesItsShards() throws IOException {
        Path dir = tmp.resolve("abandoned");
        try (CheckpointWriter w = CheckpointWriter.create(dir, List.of(A, B, C), Map.of(), 24)) {
            w.write("a", new float[6]);
            w.write("b", new float[3]);
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList());
        }
    }
}
