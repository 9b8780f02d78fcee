package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.emend.core.model.LlamaConfig;

import java.util.List;

/**
 * The Llama family (Llama 2/3, Mistral, Qwen2, SmolLM, TinyLlama): RMSNorm before attention and MLP, rotate-half RoPE
 * with {@code rope_theta}, grouped-query attention, SwiGLU MLP, optional q/k/v biases (Qwen2), tied or untied head.
 *
 * <p>Weight names (Hugging Face {@code LlamaForCausalLM}):
 * {@code model.embed_tokens.weight} [vocab, hidden];
 * per layer i under {@code model.layers.i.}: {@code input_layernorm.weight} [hidden],
 * {@code self_attn.q_proj.weight} [heads*headDim, hidden] (+ {@code .bias}), {@code self_attn.k_proj.weight} and
 * {@code self_attn.v_proj.weight} [kvHeads*headDim, hidden] (+ {@code .bias}), {@code self_attn.o_proj.weight}
 * [hidden, heads*headDim], {@code post_attention_layernorm.weight} [hidden], {@code mlp.gate_proj.weight} and
 * {@code mlp.up_proj.weight} [mlp, hidden], {@code mlp.down_proj.weight} [hidden, mlp];
 * {@code model.norm.weight} [hidden]; {@code lm_head.weight} [vocab, hidden] unless tied. Shapes are as stored in the
 * file; the graph keeps projections transposed.
 */
public final class LlamaTransformer implements Transformer {

    static final String EMBED = "model.embed_tokens.weight";
    static final String NORM = "model.norm.weight";
    static final String HEAD = "lm_head.weight";

    private final LlamaConfig config;
    private final Weights weights;
    private final Rope rope;

    private LlamaTransformer(LlamaConfig config, Weights weights) {
        this.config = config;
        this.weights = weights;
        this.rope = new Rope(config.headDim(), config.ropeTheta());
    }

    /** The name of a layer's parameter, e.g. {@code layer(3, "mlp.down_proj.weight")}. */
    public static String layer(int i, String suffix) {
        return "model.layers." + i + "." + suffix;
    }

    static LlamaTransformer create(LlamaConfig c, WeightInit init) {
        validate(c);
        Weights w = new Weights(init);
        try {
            long hidden = c.hiddenSize();
            long q = (long) c.numHeads() * c.headDim();
            long kv = (long) c.numKvHeads() * c.headDim();
            w.embedding(EMBED, EMBED, c.vocabSize(), hidden);
            for (int i = 0; i < c.numLayers(); i++) {
                w.gain(layer(i, "input_layernorm.weight"), layer(i, "input_layernorm.weight"), hidden);
                linearWithBias(w, c, layer(i, "self_attn.q_proj"), q, hidden);
                linearWithBias(w, c, layer(i, "self_attn.k_proj"), kv, hidden);
                linearWithBias(w, c, layer(i, "self_attn.v_proj"), kv, hidden);
                w.linear(layer(i, "self_attn.o_proj.weight"), layer(i, "self_attn.o_proj.weight"), hidden, q);
                w.gain(layer(i, "post_attention_layernorm.weight"), layer(i, "post_attention_layernorm.weight"), hidden);
                w.linear(layer(i, "mlp.gate_proj.weight"), layer(i, "mlp.gate_proj.weight"), c.intermediateSize(), hidden);
                w.linear(layer(i, "mlp.up_proj.weight"), layer(i, "mlp.up_proj.weight"), c.intermediateSize(), hidden);
                w.linear(layer(i, "mlp.down_proj.weight"), layer(i, "mlp.down_proj.weight"), hidden, c.intermediateSize());
            }
            w.gain(NORM, NORM, hidden);
            if (!c.tieWordEmbeddings()) {
                w.linear(HEAD, HEAD, c.vocabSize(), hidden);
            }
            return new LlamaTransformer(c, w);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    private static void linearWithBias(Weights w, LlamaConfig c, String prefix, long out, long in) {
        w.linear(prefix + ".weight", prefix + ".weight", out, in);
        if (c.qkvBias()) {
            w.bias(prefix + ".bias", prefix + ".bias", out);
        }
    }

    private static void validate(LlamaConfig c) {
        if (c.numHeads() <= 0 || c.numKvHeads() <= 0 || c.numHeads() % c.numKvHeads() != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + c.numHeads()
                    + ") must be a positive multiple of num_key_value_heads (" + c.numKvHeads() + ")");
        }
        if (c.headDim() <= 0 || c.headDim() % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be positive and even for RoPE, got " + c.headDim());
        }
        if (c.hiddenSize() <= 0 || c.intermediateSize() <= 0 || c.vocabSize() <= 0 || c.numLayers() <= 0
                || c.maxPositions() <= 0) {
            throw new IllegalArgumentException("hidden_size, intermediate_size, vocab_size, num_hidden_layers and "
                    + "max_position_embeddings must be positive");
        }
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public ForwardResult forward(NDManager scope, TokenBatch batch, ForwardOptions options) {
        KvCache cache = options.cache();
        int[] start = Sequences.check(batch, cache, config.vocabSize(), config.maxPositions());
        int[][] keyMask = cache == null ? batch.mask() : cache.keyMaskWith(batch);
        int[][] positions = batch.positions(start);
        int b = batch.batchSize();
        int t = batch.length();
        try (ForwardPass pass = new ForwardPass(scope, weights, options, config.numLayers())) {
            NDArray x = pass.probe(Site.EMBEDDING, 0, pass.embed(pass.ids(batch), EMBED));
            NDList tables = rope.tables(pass.step, positions);
            NDArray mask = AttentionMask.additive(pass.step, keyMask, t);
            for (int i = 0; i < config.numLayers(); i++) {
                x = block(pass, i, x, tables, mask, cache, b, t);
            }
            if (cache != null) {
                cache.commit(batch);
            }
            if (options.logits() == LogitsScope.NONE) {
                return pass.finish(null);
            }
            NDArray h = RmsNorm.apply(pass.headInput(x, batch), pass.weight(NORM), config.rmsNormEps());
            NDArray logits = config.tieWordEmbeddings()
                    ? h.matMul(pass.owned(EMBED).transpose())
                    : pass.project(HEAD, h);
            return pass.finish(logits);
        }
    }

    private NDArray block(ForwardPass pass, int i, NDArray x, NDList tables, NDArray mask, KvCache cache,
                          int b, int t) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headDim();
        NDArray h = RmsNorm.apply(x, pass.weight(layer(i, "input_layernorm.weight")), config.rmsNormEps());
        NDArray q = pass.project(layer(i, "self_attn.q_proj.weight"), h).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = pass.project(layer(i, "self_attn.k_proj.weight"), h).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = pass.project(layer(i, "self_attn.v_proj.weight"), h).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        q = rope.apply(q, tables);
        NDArray keysT = rope.apply(k, tables).transpose(0, 1, 3, 2);
        if (cache != null) {
            NDArray[] past = cache.append(i, keysT, v);
            keysT = past[0];
            v = past[1];
        }
        NDArray attended = Attention.attend(q, keysT, v, mask).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        x = x.add(pass.project(layer(i, "self_attn.o_proj.weight"), attended));
        NDArray h2 = RmsNorm.apply(x, pass.weight(layer(i, "post_attention_layernorm.weight")), config.rmsNormEps());
        NDArray m = SwiGlu.apply(pass.project(layer(i, "mlp.gate_proj.weight"), h2),
                pass.project(layer(i, "mlp.up_proj.weight"), h2));
        m = pass.probe(Site.MLP_DOWN_INPUT, i, m);
        NDArray down = pass.probe(Site.MLP_DOWN_OUTPUT, i, pass.project(layer(i, "mlp.down_proj.weight"), m));
        return pass.probe(Site.BLOCK_OUTPUT, i, x.add(down));
    }

    @Override
    public KvCache newCache(NDManager scope, int batch) {
        return new KvCache(scope, config.numLayers(), batch);
    }

    @Override
    public List<String> parameterNames() {
        return weights.names();
    }

    @Override
    public NDArray parameter(String name) {
        return weights.get(name);
    }

    @Override
    public boolean isProjection(String name) {
        return weights.isProjection(name);
    }

    @Override
    public String mlpDownProjection(int layer) {
        return layer(layer, "mlp.down_proj.weight");
    }

    @Override
    public long parameterCount() {
        return weights.parameterCount();
    }

    @Override
    public void close() {
        weights.close();
    }
}
