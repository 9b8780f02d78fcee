package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.emend.core.model.Gpt2Config;
import io.emend.core.tensor.TensorSource;

import java.util.List;

/**
 * GPT-2: learned absolute positions, pre-LayerNorm blocks, fused q/k/v projection, {@code gelu_new} MLP, head tied to
 * the token embedding. Conv1D weights are stored {@code [in, out]} already, so nothing is transposed.
 *
 * <p>Canonical names are {@code GPT2LMHeadModel}'s, with the {@code transformer.} prefix; checkpoints saved from the
 * bare {@code GPT2Model} lack it and load the same. Per layer i under {@code transformer.h.i.}: {@code ln_1.weight},
 * {@code ln_1.bias} [hidden]; {@code attn.c_attn.weight} [hidden, 3*hidden] and {@code .bias}; {@code attn.c_proj.weight}
 * [hidden, hidden] and {@code .bias}; {@code ln_2.*}; {@code mlp.c_fc.weight} [hidden, mlp] and {@code .bias};
 * {@code mlp.c_proj.weight} [mlp, hidden] and {@code .bias}. Plus {@code transformer.wte.weight} [vocab, hidden],
 * {@code transformer.wpe.weight} [positions, hidden], {@code transformer.ln_f.*}. Extra tensors (the causal-mask
 * buffers {@code attn.bias}/{@code attn.masked_bias} of old checkpoints, a duplicate {@code lm_head.weight}) are ignored.
 */
public final class Gpt2Transformer implements Transformer {

    static final String PREFIX = "transformer.";
    static final String WTE = PREFIX + "wte.weight";
    static final String WPE = PREFIX + "wpe.weight";

    private final Gpt2Config config;
    private final Weights weights;

    private Gpt2Transformer(Gpt2Config config, Weights weights) {
        this.config = config;
        this.weights = weights;
    }

    /** The canonical name of a layer's parameter, e.g. {@code layer(3, "mlp.c_proj.weight")}. */
    public static String layer(int i, String suffix) {
        return PREFIX + "h." + i + "." + suffix;
    }

    /** The key prefix the checkpoint uses: {@code transformer.} or none. */
    static String prefixIn(TensorSource source) {
        if (source.find(WTE).isPresent()) {
            return PREFIX;
        }
        if (source.find("wte.weight").isPresent()) {
            return "";
        }
        throw new IllegalArgumentException("GPT-2 checkpoint has neither " + WTE + " nor wte.weight");
    }

    static Gpt2Transformer create(Gpt2Config c, WeightInit init, String storedPrefix) {
        if (c.hiddenSize() <= 0 || c.numHeads() <= 0 || c.hiddenSize() % c.numHeads() != 0) {
            throw new IllegalArgumentException("n_embd (" + c.hiddenSize() + ") must be a positive multiple of n_head ("
                    + c.numHeads() + ")");
        }
        if (c.numLayers() <= 0 || c.vocabSize() <= 0 || c.maxPositions() <= 0 || c.intermediateSize() <= 0) {
            throw new IllegalArgumentException("n_layer, vocab_size, n_positions and n_inner must be positive");
        }
        Weights w = new Weights(init);
        try {
            long hidden = c.hiddenSize();
            w.embedding(WTE, stored(storedPrefix, WTE), c.vocabSize(), hidden);
            w.embedding(WPE, stored(storedPrefix, WPE), c.maxPositions(), hidden);
            for (int i = 0; i < c.numLayers(); i++) {
                layerNorm(w, storedPrefix, layer(i, "ln_1"), hidden);
                conv1d(w, storedPrefix, layer(i, "attn.c_attn"), hidden, 3 * hidden);
                conv1d(w, storedPrefix, layer(i, "attn.c_proj"), hidden, hidden);
                layerNorm(w, storedPrefix, layer(i, "ln_2"), hidden);
                conv1d(w, storedPrefix, layer(i, "mlp.c_fc"), hidden, c.intermediateSize());
                conv1d(w, storedPrefix, layer(i, "mlp.c_proj"), c.intermediateSize(), hidden);
            }
            layerNorm(w, storedPrefix, PREFIX + "ln_f", hidden);
            return new Gpt2Transformer(c, w);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    private static String stored(String storedPrefix, String canonical) {
        return storedPrefix + canonical.substring(PREFIX.length());
    }

    private static void layerNorm(Weights w, String storedPrefix, String name, long dim) {
        w.gain(name + ".weight", stored(storedPrefix, name + ".weight"), dim);
        w.bias(name + ".bias", stored(storedPrefix, name + ".bias"), dim);
    }

    private static void conv1d(Weights w, String storedPrefix, String name, long in, long out) {
        w.conv1d(name + ".weight", stored(storedPrefix, name + ".weight"), in, out);
        w.bias(name + ".bias", stored(storedPrefix, name + ".bias"), out);
    }

    @Override
    public Gpt2Config config() {
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
        double eps = config.layerNormEps();
        try (ForwardPass pass = new ForwardPass(scope, weights, options, config.numLayers())) {
            NDArray x = pass.probe(Site.EMBEDDING, 0, pass.embed(pass.ids(batch), WTE)
                    .add(pass.embed(pass.positions(positions, config.maxPositions()), WPE)));
            NDArray mask = AttentionMask.additive(pass.step, keyMask, t);
            for (int i = 0; i < config.numLayers(); i++) {
                x = block(pass, i, x, mask, cache, b, t);
            }
            if (cache != null) {
                cache.commit(batch);
            }
            if (options.logits() == LogitsScope.NONE) {
                return pass.finish(null);
            }
            NDArray h = LayerNorm.apply(pass.headInput(x, batch), pass.weight(PREFIX + "ln_f.weight"),
                    pass.weight(PREFIX + "ln_f.bias"), eps);
            return pass.finish(h.matMul(pass.owned(WTE).transpose()));
        }
    }

    private NDArray block(ForwardPass pass, int i, NDArray x, NDArray mask, KvCache cache, int b, int t) {
        int heads = config.numHeads();
        int d = config.headDim();
        double eps = config.layerNormEps();
        NDArray h = LayerNorm.apply(x, pass.weight(layer(i, "ln_1.weight")), pass.weight(layer(i, "ln_1.bias")), eps);
        NDList qkv = pass.project(layer(i, "attn.c_attn.weight"), h).split(3, 2);
        NDArray q = qkv.get(0).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray keysT = qkv.get(1).reshape(b, t, heads, d).transpose(0, 2, 3, 1);
        NDArray v = qkv.get(2).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        if (cache != null) {
            NDArray[] past = cache.append(i, keysT, v);
            keysT = past[0];
            v = past[1];
        }
        NDArray attended = Attention.attend(q, keysT, v, mask).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        x = x.add(pass.project(layer(i, "attn.c_proj.weight"), attended));
        NDArray h2 = LayerNorm.apply(x, pass.weight(layer(i, "ln_2.weight")), pass.weight(layer(i, "ln_2.bias")), eps);
        NDArray m = pass.probe(Site.MLP_DOWN_INPUT, i, Gelu.tanhApproximation(pass.project(layer(i, "mlp.c_fc.weight"), h2)));
        NDArray down = pass.probe(Site.MLP_DOWN_OUTPUT, i, pass.project(layer(i, "mlp.c_proj.weight"), m));
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

    /** Accepts names with or without the {@code transformer.} prefix. */
    @Override
    public NDArray parameter(String name) {
        return weights.get(canonical(name));
    }

    @Override
    public boolean isProjection(String name) {
        return weights.isProjection(canonical(name));
    }

    /** The canonical (prefixed) form of a GPT-2 weight name. */
    public static String canonical(String name) {
        return name.startsWith(PREFIX) ? name : PREFIX + name;
    }

    @Override
    public String mlpDownProjection(int layer) {
        return layer(layer, "mlp.c_proj.weight");
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
