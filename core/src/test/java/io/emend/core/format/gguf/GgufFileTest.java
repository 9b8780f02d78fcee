package io.emend.core.format.gguf;

import io.emend.core.format.MalformedFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufFileTest {

    @TempDir
    Path tmp;

    private static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("u8", new GgufValue(GgufValueType.UINT8, null, 255L));
        m.put("i8", new GgufValue(GgufValueType.INT8, null, -128L));
        m.put("u16", new GgufValue(GgufValueType.UINT16, null, 65535L));
        m.put("i16", new GgufValue(GgufValueType.INT16, null, -32768L));
        m.put("u32", GgufValue.uint32(4_000_000_000L));
        m.put("i32", GgufValue.int32(-5));
        m.put("f32", GgufValue.float32(1.5e-5f));
        m.put("bool", GgufValue.bool(true));
        m.put("str", GgufValue.string("héllo ▁ 😀"));
        m.put("u64", GgufValue.uint64(-1L));
        m.put("i64", new GgufValue(GgufValueType.INT64, null, Long.MIN_VALUE));
        m.put("f64", new GgufValue(GgufValueType.FLOAT64, null, Math.PI));
        m.put("strings", GgufValue.array(GgufValueType.STRING, List.of("<s>", "", "▁the")));
        m.put("floats", GgufValue.array(GgufValueType.FLOAT32, List.of(-1.0, 0.5)));
        m.put("ints", GgufValue.array(GgufValueType.INT32, List.of(1L, -2L, 3L)));
        m.put("empty", GgufValue.array(GgufValueType.UINT8, List.of()));
        return m;
    }

    @Test
    void roundTripsEveryMetadataTypeAndTensorType() throws IOException {
        Random random = new Random(1);
        float[] values = new float[4 * 64];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        List<GgufWriter.Declaration> declarations = List.of(
                new GgufWriter.Declaration("f32", GgmlType.F32, new long[]{7}),
                new GgufWriter.Declaration("f16", GgmlType.F16, new long[]{4, 64}),
                new GgufWriter.Declaration("q8", GgmlType.Q8_0, new long[]{4, 64}),
                new GgufWriter.Declaration("q4", GgmlType.Q4_0, new long[]{2, 2, 64}));
        Path file = tmp.resolve("all.gguf");
        float[] seven = {1, 2, 3, 4, 5, 6, 7};
        try (GgufWriter w = GgufWriter.create(file, everyValueType(), declarations)) {
            w.write("f32", seven);
            w.write("f16", values);
            w.write("q8", values);
            w.write("q4", values);
            w.commit();
        }
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(everyValueType(), g.metadata());
            assertEquals(List.of("f32", "f16", "q8", "q4"), g.tensors().stream().map(GgufTensor::name).toList());
            for (GgufTensor t : g.tensors()) {
                assertEquals(0, t.offset() % 32, "aligned " + t);
            }
            assertArrayEquals(new long[]{2, 2, 64}, g.tensor("q4").orElseThrow().shape());
            assertArrayEquals(seven, g.floats("f32"));
            assertArrayEquals(GgmlType.F16.decode(java.lang.foreign.MemorySegment.ofArray(GgmlType.F16.encode(values)),
                    values.length), g.floats("f16"));
            assertArrayEquals(GgmlType.Q8_0.encode(values), g.bytes("q8").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertArrayEquals(GgmlType.Q4_0.encode(values), g.bytes("q4").toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertEquals(values.length, g.floats("q4").length);
        }
    }

    /** ne[0] (the row length) is stored first: a [3, 64] tensor is written as dims 64, 3. */
    @Test
    void dimensionsAreStoredInnermostFirst() throws IOException {
        Path file = tmp.resolve("dims.gguf");
        try (GgufWriter w = GgufWriter.create(file, Map.of(),
                List.of(new GgufWriter.Declaration("w", GgmlType.F32, new long[]{3, 64})))) {
            w.write("w", new float[192]);
            w.commit();
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(GgufFile.MAGIC, b.getInt());
        assertEquals(3, b.getInt());
        assertEquals(1, b.getLong());
        assertEquals(0, b.getLong());
        assertEquals(1, b.getLong(), "name length");
        assertEquals('w', b.get());
        assertEquals(2, b.getInt(), "n_dims");
        assertEquals(64, b.getLong(), "ne[0]");
        assertEquals(3, b.getLong(), "ne[1]");
        assertEquals(GgmlType.F32.id(), b.getInt());
        assertEquals(0, b.getLong(), "offset");
    }

    @Test
    void customAlignment() throws IOException {
        Path file = tmp.resolve("align.gguf");
        Map<String, GgufValue> m = Map.of(GgufFile.ALIGNMENT_KEY, GgufValue.uint32(64));
        try (GgufWriter w = GgufWriter.create(file, m, List.of(new GgufWriter.Declaration("a", GgmlType.F32, new long[]{3}),
                new GgufWriter.Declaration("b", GgmlType.F32, new long[]{3})))) {
            w.write("a", new float[]{1, 2, 3});
            w.write("b", new float[]{4, 5, 6});
            w.commit();
        }
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(64, g.alignment());
            assertEquals(64, g.tensor("b").orElseThrow().offset());
            assertArrayEquals(new float[]{4, 5, 6}, g.floats("b"));
        }
    }

    @Test
    void writerRejectsRowsThatAreNotWholeBlocksAndLeavesNothingWhenAbandoned() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> GgufWriter.create(tmp.resolve("x.gguf"), Map.of(),
                List.of(new GgufWriter.Declaration("w", GgmlType.Q8_0, new long[]{2, 48}))));
        try (GgufWriter w = GgufWriter.create(tmp.resolve("y.gguf"), Map.of(),
                List.of(new GgufWriter.Declaration("w", GgmlType.F32, new long[]{2})))) {
            assertThrows(IllegalStateException.class, w::commit);
        }
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList());
        }
    }

    private Path validFile() throws IOException {
        Path file = tmp.resolve("ok.gguf");
        try (GgufWriter w = GgufWriter.create(file, Map.of("k", GgufValue.string("v")),
                List.of(new GgufWriter.Declaration("w", GgmlType.Q8_0, new long[]{2, 32})))) {
            w.write("w", new float[64]);
            w.commit();
        }
        return file;
    }

    private MalformedFileException rejected(byte[] content) throws IOException {
        Path bad = tmp.resolve("bad.gguf");
        Files.write(bad, content);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> GgufFile.open(bad));
        assertTrue(e.getMessage().startsWith(bad + ": "), e.getMessage());
        return e;
    }

    @Test
    void malformedFiles() throws IOException {
        byte[] ok = Files.readAllBytes(validFile());
        assertTrue(rejected(java.util.Arrays.copyOf(ok, ok.length - 40)).detail().contains("truncated: tensor 'w'"));
        assertTrue(rejected(java.util.Arrays.copyOf(ok, 30)).detail().contains("truncated"));

        byte[] magic = ok.clone();
        magic[0] = 'X';
        assertTrue(rejected(magic).detail().contains("is not GGUF"));

        byte[] version = ok.clone();
        version[4] = 1;
        assertTrue(rejected(version).detail().contains("version 1 is not supported"));

        byte[] count = ok.clone();
        ByteBuffer.wrap(count).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 1L << 40);
        assertTrue(rejected(count).detail().contains("tensor_count"));

        // Layout of ok.gguf: 24-byte header; key "k" (8+1), type (4), value "v" (8+1); then the tensor info.
        int valueType = 24 + 9;
        byte[] type = ok.clone();
        type[valueType] = 99;
        assertTrue(rejected(type).detail().contains("metadata k: unknown value type 99"));

        int tensorType = 24 + 9 + 4 + 9 + 9 + 4 + 16;
        byte[] ggml = ok.clone();
        ggml[tensorType] = 12;
        assertTrue(rejected(ggml).detail().contains("tensor 'w': ggml type 12 is not supported"));

        byte[] offset = ok.clone();
        offset[tensorType + 4] = 3;
        assertTrue(rejected(offset).detail().contains("tensor 'w': offset 3 is not a multiple of the alignment 32"));

        byte[] stringLength = ok.clone();
        ByteBuffer.wrap(stringLength).order(ByteOrder.LITTLE_ENDIAN).putLong(24 + 9 + 4, 1L << 50);
        assertTrue(rejected(stringLength).detail().contains("truncated: metadata k needs"));
    }

    @Test
    void overlappingTensors() throws IOException {
        Path file = tmp.resolve("two.gguf");
        try (GgufWriter w = GgufWriter.create(file, Map.of(), List.of(
                new GgufWriter.Declaration("a", GgmlType.F32, new long[]{8}),
                new GgufWriter.Declaration("b", GgmlType.F32, new long[]{8})))) {
            w.write("a", new float[8]);
            w.write("b", new float[8]);
            w.commit();
        }
        byte[] bytes = Files.readAllBytes(file);
        // Tensor b's offset field (32) is the last 8 bytes of its info: point it at a's data.
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int infoB = 24 + (8 + 1 + 4 + 8 + 4 + 8) + (8 + 1 + 4 + 8 + 4);
        assertEquals(32, buffer.getLong(infoB));
        buffer.putLong(infoB, 0);
        assertTrue(rejected(bytes).detail().contains("overlaps tensor"));
    }
}
