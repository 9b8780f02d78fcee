package io.emend.core.format.gguf;

import io.emend.core.format.Fixtures;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufExportTest {

    @TempDir
    Path tmp;

    private static final Path STORIES = Fixtures.model("stories260k");

    @Test
    void storiesExportsWithLlamaCppNamesMetadataAndVocabulary() throws IOException {
        Path out = tmp.resolve("stories.gguf");
        GgufExport.llama(STORIES, Optional.empty(), out, GgmlType.F32);
        try (GgufFile g = GgufFile.open(out);
             SafetensorsFile hf = SafetensorsFile.open(STORIES.resolve("model.safetensors"))) {
            assertEquals(47, g.tensors().size(), "tied head: no output.weight");
            assertTrue(g.tensor("output.weight").isEmpty());
            assertEquals("token_embd.weight", g.tensors().getFirst().name());
            assertArrayEquals(new long[]{172, 64}, g.tensor("blk.4.ffn_gate.weight").orElseThrow().shape());
            assertArrayEquals(hf.floats("model.layers.2.mlp.down_proj.weight"), g.floats("blk.2.ffn_down.weight"));
            assertArrayEquals(hf.floats("model.norm.weight"), g.floats("output_norm.weight"));
            assertArrayEquals(hf.floats("model.layers.0.self_attn.v_proj.weight"), g.floats("blk.0.attn_v.weight"));

            assertEquals("llama", g.requireMetadata("general.architecture").asString());
            assertEquals(512, g.requireMetadata("llama.context_length").asLong());
            assertEquals(64, g.requireMetadata("llama.embedding_length").asLong());
            assertEquals(5, g.requireMetadata("llama.block_count").asLong());
            assertEquals(172, g.requireMetadata("llama.feed_forward_length").asLong());
            assertEquals(8, g.requireMetadata("llama.rope.dimension_count").asLong());
            assertEquals(8, g.requireMetadata("llama.attention.head_count").asLong());
            assertEquals(4, g.requireMetadata("llama.attention.head_count_kv").asLong());
            assertEquals(1e-5f, (float) g.requireMetadata("llama.attention.layer_norm_rms_epsilon").asDouble());
            assertEquals(10000.0, g.requireMetadata("llama.rope.freq_base").asDouble());
            assertEquals(0, g.requireMetadata("general.file_type").asLong());

            assertEquals("llama", g.requireMetadata("tokenizer.ggml.model").asString());
            List<?> tokens = g.requireMetadata("tokenizer.ggml.tokens").asList();
            List<?> types = g.requireMetadata("tokenizer.ggml.token_type").asList();
            List<?> scores = g.requireMetadata("tokenizer.ggml.scores").asList();
            assertEquals(512, tokens.size());
            assertEquals(512, scores.size());
            assertEquals(List.of("<unk>", "<s>", "</s>", "<0x00>"), tokens.subList(0, 4));
            assertEquals(List.of(2L, 3L, 3L, 6L), types.subList(0, 4), "unknown, control, control, byte");
            assertEquals(1L, types.get(300), "a normal piece");
            // "▁t" comes from the first merge ("▁ t"), so it scores highest of all merged pieces.
            int first = tokens.indexOf("▁t");
            assertEquals(0.0, (Double) scores.get(first));
            assertTrue((Double) scores.get(tokens.indexOf("▁the")) < 0.0);
            assertEquals(1, g.requireMetadata("tokenizer.ggml.bos_token_id").asLong());
            assertEquals(2, g.requireMetadata("tokenizer.ggml.eos_token_id").asLong());
            assertEquals(0, g.requireMetadata("tokenizer.ggml.unknown_token_id").asLong());
            assertTrue(g.requireMetadata("tokenizer.ggml.add_bos_token").asBool());
        }
    }

    /** Within head h, exported row 2i + j is HF row j * headDim/2 + i (q with 8 heads, k with 4 KV heads). */
    @Test
    void qAndKRowsAreInterleavedPerHead() throws IOException {
        Path out = tmp.resolve("stories.gguf");
        GgufExport.llama(STORIES, Optional.empty(), out, GgmlType.F32);
        try (GgufFile g = GgufFile.open(out);
             SafetensorsFile hf = SafetensorsFile.open(STORIES.resolve("model.safetensors"))) {
            for (String[] pair : new String[][]{{"q_proj", "attn_q", "8"}, {"k_proj", "attn_k", "4"}}) {
                float[] w = hf.floats("model.layers.3.self_attn." + pair[0] + ".weight");
                float[] e = g.floats("blk.3." + pair[1] + ".weight");
                int heads = Integer.parseInt(pair[2]);
                int headDim = 8;
                int cols = 64;
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < headDim / 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            int to = h * headDim + 2 * i + j;
                            int from = h * headDim + j * headDim / 2 + i;
                            for (int c = 0; c < cols; c++) {
                                assertEquals(w[from * cols + c], e[to * cols + c], pair[0] + " row " + to);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The reason for the permutation: rotate-half RoPE on HF's rows and adjacent-pair RoPE (llama.cpp's
     * {@code LLAMA_ROPE_TYPE_NORM}) on the exported rows must give the same attention score q·k at any positions.
     */
    @Test
    void interleavedRopeOnExportedRowsGivesTheSameScores() {
        int headDim = 8;
        int cols = 16;
        Random random = new Random(3);
        float[] wq = new float[headDim * cols];
        float[] wk = new float[headDim * cols];
        float[] x = new float[cols];
        float[] y = new float[cols];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = (float) random.nextGaussian();
            wk[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < cols; i++) {
            x[i] = (float) random.nextGaussian();
            y[i] = (float) random.nextGaussian();
        }
        long[] shape = {headDim, cols};
        double hfScore = dot(ropeRotateHalf(matvec(wq, x, headDim), 5), ropeRotateHalf(matvec(wk, y, headDim), 2));
        double cppScore = dot(ropeAdjacent(matvec(GgufExport.interleaveRopeRows(wq, shape, 1), x, headDim), 5),
                ropeAdjacent(matvec(GgufExport.interleaveRopeRows(wk, shape, 1), y, headDim), 2));
        // Both sides compute the same sums in double from the same floats, in a different order: 1e-9 is slack.
        assertEquals(hfScore, cppScore, 1e-9 * Math.abs(hfScore) + 1e-9);
        double unpermuted = dot(ropeAdjacent(matvec(wq, x, headDim), 5), ropeAdjacent(matvec(wk, y, headDim), 2));
        assertTrue(Math.abs(hfScore - unpermuted) > 1e-3, "without the permutation the scores differ");
    }

    private static double[] matvec(float[] w, float[] x, int rows) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < x.length; c++) {
                out[r] += w[r * x.length + c] * (double) x[c];
            }
        }
        return out;
    }

    private static double[] ropeRotateHalf(double[] v, int pos) {
        int half = v.length / 2;
        double[] out = new double[v.length];
        for (int i = 0; i < half; i++) {
            double angle = pos * Math.pow(10000, -2.0 * i / v.length);
            out[i] = v[i] * Math.cos(angle) - v[i + half] * Math.sin(angle);
            out[i + half] = v[i + half] * Math.cos(angle) + v[i] * Math.sin(angle);
        }
        return out;
    }

    private static double[] ropeAdjacent(double[] v, int pos) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length / 2; i++) {
            double angle = pos * Math.pow(10000, -2.0 * i / v.length);
            out[2 * i] = v[2 * i] * Math.cos(angle) - v[2 * i + 1] * Math.sin(angle);
            out[2 * i + 1] = v[2 * i + 1] * Math.cos(angle) + v[2 * i] * Math.sin(angle);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** Q8_0 for matrices whose rows are whole blocks; F16 for ffn_down, whose rows are 172 = 5.4 blocks long. */
    @Test
    void quantizedExportFallsBackToF16ForPartialBlocks() throws IOException {
        Path out = tmp.resolve("stories-q8.gguf");
        GgufExport.Result r = GgufExport.llama(STORIES, Optional.empty(), out, GgmlType.Q8_0);
        assertEquals(47, r.tensors().size());
        try (GgufFile g = GgufFile.open(out);
             SafetensorsFile hf = SafetensorsFile.open(STORIES.resolve("model.safetensors"))) {
            assertEquals(GgmlType.Q8_0, g.tensor("blk.0.attn_q.weight").orElseThrow().type());
            assertEquals(GgmlType.Q8_0, g.tensor("token_embd.weight").orElseThrow().type());
            assertEquals(GgmlType.F16, g.tensor("blk.0.ffn_down.weight").orElseThrow().type());
            assertEquals(GgmlType.F32, g.tensor("blk.0.attn_norm.weight").orElseThrow().type());
            assertEquals(7, g.requireMetadata("general.file_type").asLong());
            float[] embd = hf.floats("model.embed_tokens.weight");
            float[] q = g.floats("token_embd.weight");
            // Q8_0 moves each value by at most ~0.56 of its block's step max|x|/127 (see Q8_0Test).
            for (int b = 0; b < embd.length / 32; b++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(embd[b * 32 + j]));
                }
                for (int j = 0; j < 32; j++) {
                    assertEquals(embd[b * 32 + j], q[b * 32 + j], 0.57 * amax / 127 + 1e-12);
                }
            }
        }
    }

    @Test
    void byteLevelTinyLlamaExportsWithGpt2Vocabulary() throws IOException {
        Path out = tmp.resolve("tiny.gguf");
        GgufExport.llama(Fixtures.model("tiny-llama"), Optional.of("model.f16.safetensors"), out, GgmlType.Q4_0);
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(21, g.tensors().size());
            assertEquals(GgmlType.Q4_0, g.tensor("output.weight").orElseThrow().type(), "untied head exported");
            assertEquals("gpt2", g.requireMetadata("tokenizer.ggml.model").asString());
            assertEquals(256, g.requireMetadata("tokenizer.ggml.tokens").asList().size());
            assertEquals(2, g.requireMetadata("general.file_type").asLong());
        }
    }

    @Test
    void otherArchitecturesAreRejected() throws IOException {
        MalformedFileException e = assertThrows(MalformedFileException.class, () ->
                GgufExport.llama(Fixtures.model("tiny-gpt2"), Optional.empty(), tmp.resolve("g.gguf"), GgmlType.F16));
        assertTrue(e.detail().contains("model_type 'gpt2' cannot be exported"), e.detail());
        assertFalse(Files.exists(tmp.resolve("g.gguf")));
    }
}
