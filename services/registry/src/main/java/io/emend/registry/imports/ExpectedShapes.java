package io.emend.registry.imports;

import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors a config implies, by Hugging Face name, with their shapes: the embedding, every layer's attention and
 * MLP projections and norms, and the LM head unless it is tied. An import is refused unless its safetensors files
 * hold each of them with exactly this shape. Tensors not listed here (biases of optional layers, rotary buffers) are
 * not required.
 */
final class ExpectedShapes {

    private ExpectedShapes() {
    }

    /** {@code prefix} is {@code transformer.} for GPT-2 checkpoints saved with it, otherwise empty. */
    static Map<String, long[]> of(ModelConfig config, String prefix) {
        return switch (config) {
            case LlamaConfig llama -> llama(llama);
            case Gpt2Config gpt2 -> gpt2(gpt2, prefix);
        };
    }

    private static Map<String, long[]> llama(LlamaConfig c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long dim = c.hiddenSize();
        long q = (long) c.numHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        shapes.put("model.embed_tokens.weight", new long[] {c.vocabSize(), dim});
        for (int i = 0; i < c.numLayers(); i++) {
            String layer = "model.layers." + i + ".";
            shapes.put(layer + "input_layernorm.weight", new long[] {dim});
            shapes.put(layer + "post_attention_layernorm.weight", new long[] {dim});
            shapes.put(layer + "self_attn.q_proj.weight", new long[] {q, dim});
            shapes.put(layer + "self_attn.k_proj.weight", new long[] {kv, dim});
            shapes.put(layer + "self_attn.v_proj.weight", new long[] {kv, dim});
            shapes.put(layer + "self_attn.o_proj.weight", new long[] {dim, q});
            if (c.qkvBias()) {
                shapes.put(layer + "self_attn.q_proj.bias", new long[] {q});
                shapes.put(layer + "self_attn.k_proj.bias", new long[] {kv});
                shapes.put(layer + "self_attn.v_proj.bias", new long[] {kv});
            }
            shapes.put(layer + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), dim});
            shapes.put(layer + "mlp.up_proj.weight", new long[] {c.intermediateSize(), dim});
            shapes.put(layer + "mlp.down_proj.weight", new long[] {dim, c.intermediateSize()});
        }
        shapes.put("model.norm.weight", new long[] {dim});
        if (!c.tieWordEmbeddings()) {
            shapes.put("lm_head.weight", new long[] {c.vocabSize(), dim});
        }
        return shapes;
    }

    /** GPT-2 stores its projections as Conv1D weights, [in, out]. */
    private static Map<String, long[]> gpt2(Gpt2Config c, String prefix) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long dim = c.hiddenSize();
        shapes.put(prefix + "wte.weight", new long[] {c.vocabSize(), dim});
        shapes.put(prefix + "wpe.weight", new long[] {c.maxPositions(), dim});
        for (int i = 0; i < c.numLayers(); i++) {
            String layer = prefix + "h." + i + ".";
            shapes.put(layer + "ln_1.weight", new long[] {dim});
            shapes.put(layer + "ln_2.weight", new long[] {dim});
            shapes.put(layer + "attn.c_attn.weight", new long[] {dim, 3 * dim});
            shapes.put(layer + "attn.c_proj.weight", new long[] {dim, dim});
            shapes.put(layer + "mlp.c_fc.weight", new long[] {dim, c.intermediateSize()});
            shapes.put(layer + "mlp.c_proj.weight", new long[] {c.intermediateSize(), dim});
        }
        shapes.put(prefix + "ln_f.weight", new long[] {dim});
        return shapes;
    }
}
