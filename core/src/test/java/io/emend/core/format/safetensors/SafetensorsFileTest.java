package io.emend.core.format.safetensors;

import io.emend.core.format.Fixtures;
import io.emend.core.format.MalformedFileException;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {

    @TempDir
    Path tmp;

    /** Names and shapes a HF Llama checkpoint must have, derived from the config numbers alone. */
    private static Map<String, long[]> llamaShapes(int hidden, int inter, int layers, int heads, int kvHeads,
                                                   int headDim, int vocab, boolean tied) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[]{vocab, hidden});
        m.put("model.norm.weight", new long[]{hidden});
        if (!tied) {
            m.put("lm_head.weight", new long[]{vocab, hidden});
        }
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", new long[]{hidden});
            m.put(p + "post_attention_layernorm.weight", new long[]{hidden});
            m.put(p + "self_attn.q_proj.weight", new long[]{(long) heads * headDim, hidden});
            m.put(p + "self_attn.k_proj.weight", new long[]{(long) kvHeads * headDim, hidden});
            m.put(p + "self_attn.v_proj.weight", new long[]{(long) kvHeads * headDim, hidden});
            m.put(p + "self_attn.o_proj.weight", new long[]{hidden, (long) heads * headDim});
            m.put(p + "mlp.gate_proj.weight", new long[]{inter, hidden});
            m.put(p + "mlp.up_proj.weight", new long[]{inter, hidden});
            m.put(p + "mlp.down_proj.weight", new long[]{hidden, inter});
        }
        return m;
    }

    /** GPT-2 names (with the transformer. prefix) and Conv1D shapes [in, out]. */
    private static Map<String, long[]> gpt2Shapes(int embd, int layers, int vocab, int positions) {
        Map<String, long[]> m = new LinkedHashMap<>();
        String t = "transformer.";
        m.put(t + "wte.weight", new long[]{vocab, embd});
        m.put(t + "wpe.weight", new long[]{positions, embd});
        m.put(t + "ln_f.weight", new long[]{embd});
        m.put(t + "ln_f.bias", new long[]{embd});
        for (int i = 0; i < layers; i++) {
            String p = t + "h." + i + ".";
            for (String ln : new String[]{"ln_1", "ln_2"}) {
                m.put(p + ln + ".weight", new long[]{embd});
                m.put(p + ln + ".bias", new long[]{embd});
            }
            m.put(p + "attn.c_attn.weight", new long[]{embd, 3L * embd});
            m.put(p + "attn.c_attn.bias", new long[]{3L * embd});
            m.put(p + "attn.c_proj.weight", new long[]{embd, embd});
            m.put(p + "attn.c_proj.bias", new long[]{embd});
            m.put(p + "mlp.c_fc.weight", new long[]{embd, 4L * embd});
            m.put(p + "mlp.c_fc.bias", new long[]{4L * embd});
            m.put(p + "mlp.c_proj.weight", new long[]{4L * embd, embd});
            m.put(p + "mlp.c_proj.bias", new long[]{embd});
        }
        return m;
    }

    private static Map<String, long[]> expectedShapes(String model) {
        return switch (model) {
            case "tiny-llama" -> llamaShapes(64, 160, 2, 4, 2, 16, 256, false);
            case "stories260k" -> llamaShapes(64, 172, 5, 8, 4, 8, 512, true);
            case "tiny-gpt2" -> gpt2Shapes(64, 2, 256, 128);
            default -> throw new IllegalArgumentException(model);
        };
    }

    @ParameterizedTest
    @CsvSource({
            "tiny-llama, model.safetensors, F32",
            "tiny-llama, model.f16.safetensors, F16",
            "tiny-llama, model.bf16.safetensors, BF16",
            "tiny-gpt2, model.safetensors, F32",
            "tiny-gpt2, model.f16.safetensors, F16",
            "tiny-gpt2, model.bf16.safetensors, BF16",
            "stories260k, model.safetensors, F32"})
    void fixtureOpensWithTheExpectedTensors(String model, String file, DType dtype) throws IOException {
        Map<String, long[]> expected = expectedShapes(model);
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.model(model).resolve(file))) {
            assertEquals(expected.size(), f.tensors().size(), "tensor count");
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                TensorInfo t = f.find(e.getKey()).orElseThrow(() -> new AssertionError("missing " + e.getKey()));
                assertArrayEquals(e.getValue(), t.shape(), e.getKey());
                assertEquals(dtype, t.dtype(), e.getKey());
                assertEquals(t.byteSize(), f.bytes(t.name()).byteSize());
                assertEquals(t.elements(), f.floats(t.name()).length);
            }
            assertEquals("pt", f.metadata().get("format"));
        }
    }

    /**
     * The F16/BF16 fixtures hold the F32 weights rounded to the narrower format. Rounding to nearest moves a
     * normal value by at most half a unit in the last place: |x| * 2^-11 for F16 (10 stored mantissa bits) and
     * |x| * 2^-8 for BF16 (7 bits); F16 subnormals (|x| < 2^-14) are spaced 2^-24 apart, so there the bound is
     * 2^-25 absolute. A wrong byte order, a mantissa/exponent mix-up or a truncating conversion breaks these bounds.
     */
    @ParameterizedTest
    @CsvSource({
            "tiny-llama, model.f16.safetensors, 11",
            "tiny-llama, model.bf16.safetensors, 8",
            "tiny-gpt2, model.f16.safetensors, 11",
            "tiny-gpt2, model.bf16.safetensors, 8"})
    void narrowFixturesWidenToTheF32WeightsWithinHalfAnUlp(String model, String file, int halfUlpExponent)
            throws IOException {
        Path dir = Fixtures.model(model);
        try (SafetensorsFile f32 = SafetensorsFile.open(dir.resolve("model.safetensors"));
             SafetensorsFile narrow = SafetensorsFile.open(dir.resolve(file))) {
            long checked = 0;
            for (TensorInfo t : f32.tensors()) {
                float[] reference = f32.floats(t.name());
                float[] widened = narrow.floats(t.name());
                assertEquals(reference.length, widened.length);
                for (int i = 0; i < reference.length; i++) {
                    double bound = Math.max(Math.abs(reference[i]) * Math.scalb(1.0, -halfUlpExponent), 0x1p-25);
                    assertTrue(Math.abs(reference[i] - widened[i]) <= bound,
                            () -> t.name() + ": " + widened + " vs " + reference);
                    checked++;
                }
            }
            assertTrue(checked > 50_000, "compared every weight");
        }
    }

    @Test
    void readsTensorBytesAtTheirOffsets() throws IOException {
        String header = "{\"__metadata__\":{\"who\":\"test\"},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}";
        Path p = RawSafetensors.write(tmp, "ok.safetensors", header, RawSafetensors.f32(1, 2, 3, 4));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals("a", f.tensors().get(0).name(), "storage order, not header order");
            assertArrayEquals(new float[]{1, 2}, f.floats("a"));
            assertArrayEquals(new float[]{3, 4}, f.floats("b"));
            assertEquals(Map.of("who", "test"), f.metadata());
            assertThrows(NoSuchElementException.class, () -> f.floats("c"));
            assertTrue(f.find("c").isEmpty());
        }
    }

    @Test
    void headerLengthThatIsNotAMultipleOfEightStillReads() throws IOException {
        // The spec pads headers to 8 bytes, but readers must not rely on it: data may start unaligned.
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}";
        assertTrue(header.length() % 8 != 0);
        Path p = RawSafetensors.write(tmp, "odd.safetensors", header, RawSafetensors.f32(1.5f, -2f, 3e-3f));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[]{1.5f, -2f, 3e-3f}, f.floats("a"));
        }
    }

    @Test
    void closingTwiceIsHarmless() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(Fixtures.model("tiny-llama").resolve("model.safetensors"));
        f.close();
        f.close();
    }

    private MalformedFileException rejected(byte[] content) throws IOException {
        Path p = RawSafetensors.write(tmp, "bad.safetensors", content);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), "names the file: " + e.getMessage());
        return e;
    }

    private MalformedFileException rejected(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return rejected(RawSafetensors.bytes(h.length, h, data));
    }

    private static void assertMentions(MalformedFileException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.detail().contains(part), "'" + e.detail() + "' should mention '" + part + "'");
        }
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        assertMentions(rejected(new byte[5]), "shorter than the 8-byte header length");
    }

    @Test
    void truncatedFile() throws IOException {
        byte[] whole = Files.readAllBytes(Fixtures.model("tiny-llama").resolve("model.safetensors"));
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 100);
        // The last tensor in storage order is the one whose data got cut.
        assertMentions(rejected(cut), "run past the", "truncated");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        assertMentions(rejected(RawSafetensors.bytes(1000, h, new byte[0])), "header length 1000", "past the end");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        assertMentions(rejected(RawSafetensors.bytes(200L * 1024 * 1024, h, new byte[0])), "exceeds");
        assertMentions(rejected(RawSafetensors.bytes(-1, h, new byte[0])), "18446744073709551615", "exceeds");
    }

    @Test
    void headerLengthPointingIntoTheMiddleOfTheJson() throws IOException {
        byte[] h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        byte[] misaligned = RawSafetensors.bytes(h.length - 3, h, RawSafetensors.f32(1));
        assertMentions(rejected(misaligned), "not valid JSON");
    }

    @Test
    void invalidJson() throws IOException {
        assertMentions(rejected("{\"a\": {\"dtype\": \"F32\",", new byte[0]), "not valid JSON");
        assertMentions(rejected("[1,2]", new byte[0]), "must be a JSON object");
        assertMentions(rejected("{} {}", new byte[0]), "not valid JSON");
    }

    @Test
    void duplicateTensorName() throws IOException {
        String dup = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertMentions(rejected(dup, RawSafetensors.f32(1, 2)), "Duplicate field 'a'");
    }

    @Test
    void headerThatIsNotUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        assertMentions(rejected(RawSafetensors.bytes(h.length, h, new byte[0])), "not valid UTF-8");
    }

    @Test
    void unknownDtypeNamesTheTensorAndDtype() throws IOException {
        MalformedFileException e = rejected("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                new byte[8]);
        assertMentions(e, "tensor 'ids'", "I64", "not supported");
    }

    @Test
    void shapeAndSizeMismatch() throws IOException {
        MalformedFileException e = rejected("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}",
                new byte[8]);
        assertMentions(e, "tensor 'w'", "[2, 3]", "needs 12 bytes", "span 8");
    }

    @Test
    void overlappingTensors() throws IOException {
        MalformedFileException e = rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        assertMentions(e, "tensor 'b'", "overlaps tensor 'a'");
    }

    @Test
    void gapBetweenTensors() throws IOException {
        MalformedFileException e = rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]);
        assertMentions(e, "tensor 'b' begins at 8", "gap");
    }

    @Test
    void offsetsBeyondTheDataRegion() throws IOException {
        MalformedFileException e = rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                new byte[4]);
        assertMentions(e, "tensor 'a'", "run past the 4-byte data region");
    }

    @Test
    void trailingBytesAfterTheLastTensor() throws IOException {
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[6]),
                "cover 4 bytes", "has 6");
    }

    @Test
    void malformedOffsetsAndShapes() throws IOException {
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4]),
                "tensor 'a'", "end before they begin");
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "data_offsets must have 2 entries");
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "shape[0] = -1");
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "shape[0] = 1.5");
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'a': shape is missing");
        assertMentions(rejected("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 'a': dtype is missing");
        assertMentions(rejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],"
                + "\"data_offsets\":[0,4]}}", new byte[4]), "overflows");
    }

    @Test
    void metadataMustBeStrings() throws IOException {
        assertMentions(rejected("{\"__metadata__\":{\"n\":1}}", new byte[0]), "__metadata__.n must be a string");
    }
}
