package io.emend.core.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.core.format.MalformedFileException;
import io.emend.core.format.gguf.GgmlType;
import io.emend.core.format.gguf.GgufExport;
import io.emend.core.format.gguf.GgufValue;
import io.emend.core.format.gguf.GgufWriter;
import io.emend.core.generate.Sampler;
import io.emend.core.quant.WeightFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Export to GGUF, load the file into the engine as stored, and get what the engine computes from the HF directory. */
class GgufLoadingTest {

    @TempDir
    Path tmp;

    static int[] greedy(Decoder decoder, int[] prompt, int n) {
        Sequence s = decoder.newSequence();
        float[] logits = decoder.prefill(s, prompt, 16);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Sampler.argmax(logits);
            logits = decoder.step(List.of(Decoder.Chunk.next(s, out[i]))).getFirst()[0];
        }
        return out;
    }

    /**
     * Export quantizes with the same codec the engine uses at load, and loading puts q/k rows back in place, so a
     * GGUF model holds the same weights bit for bit and gives the same greedy tokens. The logits may still differ in
     * the last bits: the F16/F32 kernels start with a scalar prologue up to the vector alignment of the data, and
     * a tensor in the mapped file sits at another alignment than one in the engine's arena, so the summation order
     * differs (float32 rounding, ~1e-6 here, against 1e-4 for any real difference such as a misplaced row).
     * stories260k's 172-wide down projection is not whole blocks and is F16 on both sides, as llama.cpp does it.
     */
    @Test
    void exportedFileRunsLikeTheDirectoryAtEachType() throws IOException {
        Golden golden = Golden.of("stories260k");
        for (WeightFormat format : WeightFormat.values()) {
            Path file = tmp.resolve("stories260k-" + format + ".gguf");
            GgufExport.llama(Golden.dir("stories260k"), Optional.empty(), file, GgmlType.valueOf(format.name()));
            try (Decoder fromDir = Decoder.load(Golden.dir("stories260k"), Optional.empty(),
                    QuantRule.uniform(format), 2);
                 Decoder fromGguf = Decoder.load(file, Optional.empty(), QuantRule.uniform(WeightFormat.F32), 2)) {
                assertEquals(fromDir.config(), fromGguf.config(), format + ": config from GGUF metadata");
                assertEquals(QuantRule.uniform(format), fromGguf.weights().rule(), "the stored types, not the rule passed");
                float[][] expected = DecoderTest.allLogits(fromDir, golden.tokens(), 7);
                float[][] actual = DecoderTest.allLogits(fromGguf, golden.tokens(), 7);
                double diff = Golden.maxAbsDiff(expected, actual);
                assertTrue(diff <= 1e-4, format + ": logits differ by " + diff);
                int[] prompt = {1, 403, 407, 261, 378}; // BOS "Once upon a time"
                assertArrayEquals(greedy(fromDir, prompt, 24), greedy(fromGguf, prompt, 24), format + ": greedy tokens");
            }
        }
    }

    @Test
    void untiedHeadAndTheWeightsFileOptionWork() throws IOException {
        Path file = tmp.resolve("tiny.gguf");
        GgufExport.llama(Golden.dir("tiny-llama"), Optional.empty(), file, GgmlType.Q8_0);
        Golden golden = Golden.of("tiny-llama");
        try (Decoder fromDir = Decoder.load(Golden.dir("tiny-llama"), Optional.empty(),
                QuantRule.uniform(WeightFormat.Q8_0), 1);
             Decoder fromGguf = Decoder.load(tmp, Optional.of("tiny.gguf"), QuantRule.MIXED, 1)) {
            assertTrue(!((io.emend.core.model.LlamaConfig) fromGguf.config()).tieWordEmbeddings());
            double diff = Golden.maxAbsDiff(DecoderTest.allLogits(fromDir, golden.tokens(), 24),
                    DecoderTest.allLogits(fromGguf, golden.tokens(), 24));
            assertTrue(diff <= 1e-4, "logits differ by " + diff);
        }
    }

    @Test
    void otherArchitecturesAndMissingTensorsAreRejected() throws IOException {
        Path gpt2 = tmp.resolve("gpt2.gguf");
        try (GgufWriter w = GgufWriter.create(gpt2, Map.of("general.architecture", GgufValue.string("gpt2")), List.of())) {
            w.commit();
        }
        var e = assertThrows(MalformedFileException.class, () -> Decoder.loadGguf(gpt2, 1));
        assertTrue(e.getMessage().contains("gpt2"), e.getMessage());

        Path empty = tmp.resolve("empty.gguf");
        Map<String, GgufValue> meta = new java.util.LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.string("llama"));
        for (String k : List.of("llama.embedding_length", "llama.attention.head_count", "llama.feed_forward_length",
                "llama.block_count", "llama.context_length", "llama.vocab_size")) {
            meta.put(k, GgufValue.uint32(32));
        }
        try (GgufWriter w = GgufWriter.create(empty, meta, List.of())) {
            w.commit();
        }
        var missing = assertThrows(IllegalArgumentException.class, () -> Decoder.loadGguf(empty, 1));
        assertTrue(missing.getMessage().matches("tensor blk\\.0\\..* is missing"), missing.getMessage());
    }
}
