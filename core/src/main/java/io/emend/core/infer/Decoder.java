package io.emend.core.infer;

import io.emend.core.format.gguf.GgufFile;
import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
import io.emend.core.quant.F32Tensor;
import io.emend.core.quant.WeightTensor;
import io.emend.core.tensor.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Optional;

/**
 * The quantized inference engine's forward for the Llama family and GPT-2: a step advances any number of sequences by any
 * number of tokens each (one token when decoding, a chunk of the prompt when prefilling), all of their tokens going
 * through each weight matrix together, so a batch streams the weights once. Sequences may sit at different positions
 * and carry different adapters; they join and leave between steps.
 *
 * <p>The two families share the step and differ where their blocks do: Llama normalizes with RMSNorm, rotates q and k
 * (RoPE), may group KV heads and gates its MLP (SwiGLU); GPT-2 normalizes with LayerNorm, adds learned positions to
 * the embedding, has a bias on every projection and an ungated GELU (tanh) MLP. Both heads are a plain product.
 */
public final class Decoder implements AutoCloseable {

    /**
     * Tokens to feed one sequence in a step.
     *
     * @param allLogits return logits for every token (scoring a prompt) rather than only the last (generating)
     */
    public record Chunk(Sequence sequence, int[] tokens, boolean allLogits) {

        public Chunk {
            if (tokens.length == 0) {
                throw new IllegalArgumentException("a chunk needs at least one token");
            }
        }

        public static Chunk next(Sequence sequence, int token) {
            return new Chunk(sequence, new int[] {token}, false);
        }
    }

    /** File names ending so are loaded as GGUF. */
    public static final String GGUF_SUFFIX = ".gguf";

    private final ModelConfig config;
    private final DecoderWeights weights;
    private final ComputePool pool;
    private final Rope rope; // null when positions are learned (GPT-2)
    private final boolean layerNorm;
    private final double normEps;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int dim;
    private final int qDim;
    private final int kvDim;
    private final int headDim;
    private final int ffn;

    public Decoder(DecoderWeights weights, int threads) {
        this.config = weights.config();
        this.weights = weights;
        this.pool = new ComputePool(threads);
        this.dim = config.hiddenSize();
        this.layers = config.numLayers();
        switch (config) {
            case LlamaConfig c -> {
                this.heads = c.numHeads();
                this.kvHeads = c.numKvHeads();
                this.headDim = c.headDim();
                this.ffn = c.intermediateSize();
                this.rope = new Rope(headDim, c.maxPositions(), c.ropeTheta());
                this.layerNorm = false;
                this.normEps = c.rmsNormEps();
            }
            case Gpt2Config c -> {
                this.heads = c.numHeads();
                this.kvHeads = c.numHeads();
                this.headDim = c.headDim();
                this.ffn = c.intermediateSize();
                this.rope = null;
                this.layerNorm = true;
                this.normEps = c.layerNormEps();
            }
        }
        this.qDim = heads * headDim;
        this.kvDim = kvHeads * headDim;
    }

    /**
     * Loads a Hugging Face model directory ({@code config.json} and its safetensors), converting each matrix to the
     * rule's format; or a GGUF file, when {@code dir} is one or {@code weightsFile} names one ({@code *.gguf}), whose
     * tensors keep the types they are stored in (see {@link #loadGguf}; the rule is then not used).
     *
     * @param weightsFile a single weights file in {@code dir} to read instead of the default (e.g. {@code model.f16.safetensors})
     */
    public static Decoder load(Path dir, Optional<String> weightsFile, QuantRule rule, int threads) throws IOException {
        if (Files.isRegularFile(dir)) {
            return loadGguf(dir, threads);
        }
        if (weightsFile.isPresent() && weightsFile.get().endsWith(GGUF_SUFFIX)) {
            return loadGguf(dir.resolve(weightsFile.get()), threads);
        }
        ModelConfig config = HfConfig.read(dir.resolve("config.json"));
        TensorSource source = ShardedCheckpoint.open(dir, weightsFile);
        try {
            DecoderWeights weights = switch (config) {
                case LlamaConfig llama -> DecoderWeights.load(llama, source, rule);
                case Gpt2Config gpt2 -> DecoderWeights.load(gpt2, source, rule);
            };
            return new Decoder(weights, threads);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /** Loads a GGUF file of architecture {@code llama} as it is stored: pre-quantized tensors are not requantized. */
    public static Decoder loadGguf(Path file, int threads) throws IOException {
        GgufFile gguf = GgufFile.open(file);
        try {
            return new Decoder(DecoderWeights.load(gguf), threads);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public DecoderWeights weights() {
        return weights;
    }

    public int threads() {
        return pool.threads();
    }

    /** A new, empty sequence on the base model. */
    public Sequence newSequence() {
        return newSequence(null);
    }

    /** A new, empty sequence with {@code adapter} (null for none). */
    public Sequence newSequence(Adapter adapter) {
        check(adapter);
        return new Sequence(new KvCache(layers, kvDim, config.maxPositions()), adapter);
    }

    /** Attaches {@code adapter} (null detaches) to {@code sequence} for its following steps. */
    public void attach(Sequence sequence, Adapter adapter) {
        check(adapter);
        sequence.adapter(adapter);
    }

    /** Rejects an adapter whose deltas do not fit this model's projections. */
    public void check(Adapter adapter) {
        if (adapter == null) {
            return;
        }
        for (var e : adapter.all().entrySet()) {
            Adapter.Target t = e.getKey();
            if (t.layer() < 0 || t.layer() >= layers) {
                throw new IllegalArgumentException("adapter " + adapter.name() + ": layer " + t.layer()
                        + " does not exist (the model has " + layers + ")");
            }
            WeightTensor w = weights.layer(t.layer()).projection(t.projection());
            if (w == null) {
                throw new IllegalArgumentException("adapter " + adapter.name() + ": " + config.modelType()
                        + " has no " + t.projection().hfName() + " projection");
            }
            for (LowRankDelta d : e.getValue()) {
                if (d.in() != w.cols() || d.out() != w.rows()) {
                    throw new IllegalArgumentException("adapter " + adapter.name() + ": delta on layer " + t.layer() + " "
                            + t.projection().hfName() + " is [" + d.out() + ", " + d.in() + "], the weight is ["
                            + w.rows() + ", " + w.cols() + "]");
                }
            }
        }
    }

    /** Feeds {@code tokens} to {@code sequence} in chunks of at most {@code chunkSize}; returns the last token's logits. */
    public float[] prefill(Sequence sequence, int[] tokens, int chunkSize) {
        float[] last = null;
        for (int from = 0; from < tokens.length; from += chunkSize) {
            int[] chunk = java.util.Arrays.copyOfRange(tokens, from, Math.min(tokens.length, from + chunkSize));
            last = step(List.of(new Chunk(sequence, chunk, false))).getFirst()[0];
        }
        if (last == null) {
            throw new IllegalArgumentException("nothing to prefill: no tokens");
        }
        return last;
    }

    /**
     * Advances every chunk's sequence by its tokens. Returns, per chunk in order, its logits: one row for the last
     * token, or one per token when {@link Chunk#allLogits()}.
     *
     * @throws IllegalArgumentException for a token outside the vocabulary, a sequence past the context, or a
     *                                  sequence given twice
     */
    public List<float[][]> step(List<Chunk> chunks) {
        var seen = new IdentityHashMap<Sequence, Boolean>();
        int total = 0;
        for (Chunk c : chunks) {
            if (seen.put(c.sequence(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("a sequence appears twice in one step");
            }
            for (int t : c.tokens()) {
                if (t < 0 || t >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + t + " is outside the vocabulary of "
                            + config.vocabSize());
                }
            }
            total += c.tokens().length;
        }
        for (Chunk c : chunks) {
            c.sequence().cache().reserve(c.sequence().length() + c.tokens().length);
        }
        var batch = new Batch(chunks, total);
        float[][] x = new float[total][dim];
        float[] positions = weights.positions();
        for (int t = 0; t < total; t++) {
            weights.embedding().readRow(batch.token[t], x[t], 0);
            if (positions != null) {
                addInto(x[t], positions, batch.position[t] * dim);
            }
        }
        float[][] xn = new float[total][dim];
        float[][] q = new float[total][qDim];
        float[][] k = new float[total][kvDim];
        float[][] v = new float[total][kvDim];
        float[][] att = new float[total][qDim];
        float[][] sum = new float[total][dim];
        float[][] gate = new float[total][ffn];
        float[][] up = new float[total][ffn];
        for (int l = 0; l < layers; l++) {
            DecoderWeights.Layer layer = weights.layer(l);
            for (int t = 0; t < total; t++) {
                normalize(x[t], layer.attnNorm(), layer.attnNormBias(), xn[t]);
            }
            multiply(batch, l, xn, new Part(Projection.Q, layer.q(), q, layer.qBias()),
                    new Part(Projection.K, layer.k(), k, layer.kBias()),
                    new Part(Projection.V, layer.v(), v, layer.vBias()));
            for (int t = 0; t < total; t++) {
                if (rope != null) {
                    rope.apply(q[t], 0, heads, batch.position[t]);
                    rope.apply(k[t], 0, kvHeads, batch.position[t]);
                }
                KvCache cache = batch.sequence[t].cache();
                System.arraycopy(k[t], 0, cache.keys(l), batch.position[t] * kvDim, kvDim);
                System.arraycopy(v[t], 0, cache.values(l), batch.position[t] * kvDim, kvDim);
            }
            attend(batch, l, q, att);
            multiply(batch, l, att, new Part(Projection.O, layer.o(), sum, layer.oBias()));
            for (int t = 0; t < total; t++) {
                addInto(x[t], sum[t], 0);
                normalize(x[t], layer.mlpNorm(), layer.mlpNormBias(), xn[t]);
            }
            if (layer.gate() != null) {
                multiply(batch, l, xn, new Part(Projection.GATE, layer.gate(), gate, null),
                        new Part(Projection.UP, layer.up(), up, layer.upBias()));
                for (int t = 0; t < total; t++) {
                    Activation.swiGlu(gate[t], up[t], ffn);
                }
            } else {
                multiply(batch, l, xn, new Part(Projection.UP, layer.up(), gate, layer.upBias()));
                for (int t = 0; t < total; t++) {
                    Activation.geluNew(gate[t], ffn);
                }
            }
            multiply(batch, l, gate, new Part(Projection.DOWN, layer.down(), sum, layer.downBias()));
            for (int t = 0; t < total; t++) {
                addInto(x[t], sum[t], 0);
            }
        }
        for (Chunk c : chunks) {
            c.sequence().advance(c.tokens().length);
        }
        return logits(chunks, x);
    }

    /** Which sequence and position each of a step's token rows belongs to. */
    private static final class Batch {
        final int[] token;
        final int[] position;
        final Sequence[] sequence;
        final Adapter[] adapter;

        Batch(List<Chunk> chunks, int total) {
            token = new int[total];
            position = new int[total];
            sequence = new Sequence[total];
            adapter = new Adapter[total];
            int t = 0;
            for (Chunk c : chunks) {
                Adapter a = c.sequence().adapter();
                for (int i = 0; i < c.tokens().length; i++, t++) {
                    token[t] = c.tokens()[i];
                    position[t] = c.sequence().length() + i;
                    sequence[t] = c.sequence();
                    adapter[t] = a;
                }
            }
        }
    }

    /** One matrix of a fused product: its output rows and the projection its deltas are keyed by. */
    private record Part(Projection projection, WeightTensor weight, float[][] out, float[] bias) {
    }

    /**
     * {@code out = W·x (+ bias) (+ deltas)} for every part and every token row, the parts' rows laid end to end and
     * split across the pool so that q/k/v (or gate/up) cost one hand-off, not three.
     */
    private void multiply(Batch batch, int layer, float[][] in, Part... parts) {
        int tokens = in.length;
        // The rank-sized middles (A·x) of every delta, per part and token: small, done before the split.
        float[][][][] middles = new float[parts.length][][][];
        for (int p = 0; p < parts.length; p++) {
            for (int t = 0; t < tokens; t++) {
                Adapter a = batch.adapter[t];
                if (a == null) {
                    continue;
                }
                List<LowRankDelta> deltas = a.deltas(layer, parts[p].projection());
                if (deltas.isEmpty()) {
                    continue;
                }
                if (middles[p] == null) {
                    middles[p] = new float[tokens][][];
                }
                middles[p][t] = new float[deltas.size()][];
                for (int d = 0; d < deltas.size(); d++) {
                    middles[p][t][d] = new float[deltas.get(d).rank()];
                    deltas.get(d).project(in[t], middles[p][t][d]);
                }
            }
        }
        int totalRows = 0;
        for (Part part : parts) {
            totalRows += part.weight().rows();
        }
        pool.run(totalRows, (from, to) -> {
            int start = 0;
            for (int p = 0; p < parts.length; p++) {
                Part part = parts[p];
                int rows = part.weight().rows();
                int lo = Math.max(from - start, 0);
                int hi = Math.min(to - start, rows);
                if (lo < hi) {
                    part.weight().matMul(in, tokens, part.out(), 0, lo, hi);
                    if (part.bias() != null) {
                        for (int t = 0; t < tokens; t++) {
                            for (int r = lo; r < hi; r++) {
                                part.out()[t][r] += part.bias()[r];
                            }
                        }
                    }
                    if (middles[p] != null) {
                        for (int t = 0; t < tokens; t++) {
                            if (middles[p][t] != null) {
                                List<LowRankDelta> deltas = batch.adapter[t].deltas(layer, part.projection());
                                for (int d = 0; d < deltas.size(); d++) {
                                    deltas.get(d).expand(middles[p][t][d], part.out()[t], 0, lo, hi);
                                }
                            }
                        }
                    }
                }
                start += rows;
            }
        });
    }

    /** Causal attention of every token row over its own sequence's cache (GQA: head h reads KV head h / group). */
    private void attend(Batch batch, int layer, float[][] q, float[][] out) {
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        pool.run(q.length * heads, (from, to) -> {
            float[] scores = new float[config.maxPositions()];
            for (int i = from; i < to; i++) {
                int t = i / heads;
                int h = i % heads;
                int pos = batch.position[t];
                int kvOffset = (h / group) * headDim;
                KvCache cache = batch.sequence[t].cache();
                float[] keys = cache.keys(layer);
                float[] values = cache.values(layer);
                for (int j = 0; j <= pos; j++) {
                    scores[j] = F32Tensor.dot(q[t], h * headDim, keys, j * kvDim + kvOffset, headDim) * scale;
                }
                Activation.softmax(scores, 0, pos + 1);
                java.util.Arrays.fill(out[t], h * headDim, (h + 1) * headDim, 0f);
                for (int j = 0; j <= pos; j++) {
                    F32Tensor.axpy(scores[j], values, j * kvDim + kvOffset, out[t], h * headDim, headDim);
                }
            }
        });
    }

    private List<float[][]> logits(List<Chunk> chunks, float[][] x) {
        List<Integer> rows = new ArrayList<>();
        int t = 0;
        for (Chunk c : chunks) {
            int n = c.tokens().length;
            if (c.allLogits()) {
                for (int i = 0; i < n; i++) {
                    rows.add(t + i);
                }
            } else {
                rows.add(t + n - 1);
            }
            t += n;
        }
        float[][] normed = new float[rows.size()][dim];
        for (int i = 0; i < rows.size(); i++) {
            normalize(x[rows.get(i)], weights.finalNorm(), weights.finalNormBias(), normed[i]);
        }
        float[][] logits = new float[rows.size()][config.vocabSize()];
        WeightTensor head = weights.head();
        pool.run(head.rows(), (from, to) -> head.matMul(normed, normed.length, logits, 0, from, to));
        List<float[][]> result = new ArrayList<>(chunks.size());
        int i = 0;
        for (Chunk c : chunks) {
            int n = c.allLogits() ? c.tokens().length : 1;
            result.add(java.util.Arrays.copyOfRange(logits, i, i + n));
            i += n;
        }
        return result;
    }

    /** {@code x += delta[from .. from + x.length)}. */
    private static void addInto(float[] x, float[] delta, int from) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[from + i];
        }
    }

    /** The family's norm: LayerNorm with its bias (GPT-2) or RMSNorm (Llama). */
    private void normalize(float[] x, float[] weight, float[] bias, float[] out) {
        if (layerNorm) {
            LayerNorm.apply(x, weight, bias, normEps, out);
        } else {
            RmsNorm.apply(x, weight, normEps, out);
        }
    }

    @Override
    public void close() {
        pool.close();
        weights.close();
    }
}
