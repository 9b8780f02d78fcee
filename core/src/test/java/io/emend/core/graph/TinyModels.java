package io.emend.core.graph;

import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;

import java.util.SplittableRandom;

/** Small random checkpoints in memory, in Hugging Face layout, for tests that exercise the graph without files. */
final class TinyModels {

    private TinyModels() {
    }

    static LlamaConfig llamaConfig(boolean tied, boolean qkvBias) {
        return new LlamaConfig(qkvBias ? "qwen2" : "llama", 32, 48, 2, 4, 2, 8, 64, 32, 1e-5, 10000.0, tied, qkvBias,
                1, 2);
    }

    static InMemoryTensors llama(LlamaConfig c, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        InMemoryTensors t = new InMemoryTensors();
        int h = c.hiddenSize();
        int q = c.numHeads() * c.headDim();
        int kv = c.numKvHeads() * c.headDim();
        t.random("model.embed_tokens.weight", rng, 1.0, c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            t.put(p + "input_layernorm.weight", gains(rng, h), h);
            t.random(p + "self_attn.q_proj.weight", rng, 0.3, q, h);
            t.random(p + "self_attn.k_proj.weight", rng, 0.3, kv, h);
            t.random(p + "self_attn.v_proj.weight", rng, 0.3, kv, h);
            if (c.qkvBias()) {
                t.random(p + "self_attn.q_proj.bias", rng, 0.3, q);
                t.random(p + "self_attn.k_proj.bias", rng, 0.3, kv);
                t.random(p + "self_attn.v_proj.bias", rng, 0.3, kv);
            }
            t.random(p + "self_attn.o_proj.weight", rng, 0.2, h, q);
            t.put(p + "post_attention_layernorm.weight", gains(rng, h), h);
            t.random(p + "mlp.gate_proj.weight", rng, 0.2, c.intermediateSize(), h);
            t.random(p + "mlp.up_proj.weight", rng, 0.2, c.intermediateSize(), h);
            t.random(p + "mlp.down_proj.weight", rng, 0.2, h, c.intermediateSize());
        }
        t.put("model.norm.weight", gains(rng, h), h);
        if (!c.tieWordEmbeddings()) {
            t.random("lm_head.weight", rng, 0.3, c.vocabSize(), h);
        }
        return t;
    }

    static Gpt2Config gpt2Config() {
        return new Gpt2Config(32, 2, 4, 64, 24, 1e-5, 128, 0, 0);
    }

    static InMemoryTensors gpt2(Gpt2Config c, long seed, String prefix) {
        SplittableRandom rng = new SplittableRandom(seed);
        InMemoryTensors t = new InMemoryTensors();
        int h = c.hiddenSize();
        t.random(prefix + "wte.weight", rng, 0.5, c.vocabSize(), h);
        t.random(prefix + "wpe.weight", rng, 0.2, c.maxPositions(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = prefix + "h." + i + ".";
            t.put(p + "ln_1.weight", gains(rng, h), h).random(p + "ln_1.bias", rng, 0.1, h);
            t.random(p + "attn.c_attn.weight", rng, 0.2, h, 3 * h).random(p + "attn.c_attn.bias", rng, 0.1, 3 * h);
            t.random(p + "attn.c_proj.weight", rng, 0.2, h, h).random(p + "attn.c_proj.bias", rng, 0.1, h);
            t.put(p + "ln_2.weight", gains(rng, h), h).random(p + "ln_2.bias", rng, 0.1, h);
            t.random(p + "mlp.c_fc.weight", rng, 0.2, h, c.intermediateSize())
                    .random(p + "mlp.c_fc.bias", rng, 0.1, c.intermediateSize());
            t.random(p + "mlp.c_proj.weight", rng, 0.1, c.intermediateSize(), h).random(p + "mlp.c_proj.bias", rng, 0.1, h);
            // old checkpoints carry the causal-mask buffer; the loader must ignore it
            t.put(p + "attn.bias", new float[] {1f}, 1);
        }
        t.put(prefix + "ln_f.weight", gains(rng, h), h).random(prefix + "ln_f.bias", rng, 0.1, h);
        return t;
    }

    private static float[] gains(SplittableRandom rng, int n) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) (1 + 0.1 * rng.nextGaussian());
        }
        return g;
    }
}
