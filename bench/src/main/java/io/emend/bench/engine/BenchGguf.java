package io.emend.bench.engine;

import io.emend.core.format.gguf.GgmlType;
import io.emend.core.format.gguf.GgufExport;
import io.emend.core.format.gguf.GgufValue;
import io.emend.core.format.gguf.GgufValueType;
import io.emend.core.format.gguf.GgufWriter;
import io.emend.core.infer.DecoderWeights;
import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.WeightTensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the engine's loaded weights as a GGUF file llama.cpp runs, byte for byte the blocks the engine reads, so
 * that both engines stream exactly the same matrices (same format for every matrix, head included). The vocabulary is
 * ANCHORS.md's synthetic one ({@code <unk>}, {@code <s>}, {@code </s>}, 256 byte tokens, then {@code ▁tok<i>}).
 *
 * <p>The q/k rows are left in Hugging Face's rotate-half order, so llama.cpp's RoPE pairs different dimensions than the
 * engine's and the two generate different tokens from these random weights; the work per token is the same.
 */
final class BenchGguf {

    private BenchGguf() {
    }

    static void write(LlamaConfig c, DecoderWeights w, Path target) throws IOException {
        Map<String, Object> tensors = new LinkedHashMap<>();
        tensors.put("token_embd.weight", w.embedding());
        for (int l = 0; l < c.numLayers(); l++) {
            DecoderWeights.Layer layer = w.layer(l);
            String p = "blk." + l + ".";
            tensors.put(p + "attn_norm.weight", layer.attnNorm());
            tensors.put(p + "attn_q.weight", layer.q());
            tensors.put(p + "attn_k.weight", layer.k());
            tensors.put(p + "attn_v.weight", layer.v());
            tensors.put(p + "attn_output.weight", layer.o());
            tensors.put(p + "ffn_norm.weight", layer.mlpNorm());
            tensors.put(p + "ffn_gate.weight", layer.gate());
            tensors.put(p + "ffn_up.weight", layer.up());
            tensors.put(p + "ffn_down.weight", layer.down());
        }
        tensors.put("output_norm.weight", w.finalNorm());
        tensors.put("output.weight", w.head());
        List<GgufWriter.Declaration> declarations = new ArrayList<>();
        for (var e : tensors.entrySet()) {
            if (e.getValue() instanceof WeightTensor t) {
                declarations.add(new GgufWriter.Declaration(e.getKey(), type(t), new long[] {t.rows(), t.cols()}));
            } else {
                declarations.add(new GgufWriter.Declaration(e.getKey(), GgmlType.F32,
                        new long[] {((float[]) e.getValue()).length}));
            }
        }
        try (GgufWriter writer = GgufWriter.create(target, metadata(c, type(w.layer(0).up())), declarations)) {
            for (var e : tensors.entrySet()) {
                if (e.getValue() instanceof WeightTensor t) {
                    writer.write(e.getKey(), t.data());
                } else {
                    writer.write(e.getKey(), MemorySegment.ofArray(GgmlType.F32.encode((float[]) e.getValue())));
                }
            }
            writer.commit();
        }
    }

    private static GgmlType type(WeightTensor t) {
        return switch (t.format()) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case Q8_0 -> GgmlType.Q8_0;
            case Q4_0 -> GgmlType.Q4_0;
        };
    }

    private static Map<String, GgufValue> metadata(LlamaConfig c, GgmlType type) {
        Map<String, GgufValue> m = GgufExport.architecture(c, "emend-engine-bench", type);
        List<String> tokens = new ArrayList<>(c.vocabSize());
        List<Double> scores = new ArrayList<>(c.vocabSize());
        List<Long> types = new ArrayList<>(c.vocabSize());
        // llama_token_type: 1 normal, 2 unknown, 3 control, 6 byte.
        tokens.add("<unk>");
        types.add(2L);
        tokens.add("<s>");
        types.add(3L);
        tokens.add("</s>");
        types.add(3L);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6L);
        }
        for (int i = 0; tokens.size() < c.vocabSize(); i++) {
            tokens.add("\u2581tok" + i);
            types.add(1L);
        }
        for (int i = 0; i < c.vocabSize(); i++) {
            scores.add(i < 259 ? 0.0 : -(double) (i - 259));
        }
        m.put("tokenizer.ggml.model", GgufValue.string("llama"));
        m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        m.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1));
        m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2));
        m.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(0));
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        return m;
    }
}
