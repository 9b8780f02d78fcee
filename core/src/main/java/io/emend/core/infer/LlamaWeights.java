package io.emend.core.infer;

import io.emend.core.model.LlamaConfig;
import io.emend.core.quant.F16Tensor;
import io.emend.core.quant.F32Tensor;
import io.emend.core.quant.Q4_0;
import io.emend.core.quant.Q4_0Tensor;
import io.emend.core.quant.Q8_0;
import io.emend.core.quant.Q8_0Tensor;
import io.emend.core.quant.WeightFormat;
import io.emend.core.quant.WeightTensor;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.HalfFloat;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A Llama-family model's weights in the engine's formats, chosen per matrix by a {@link QuantRule}. A matrix whose
 * stored dtype already is the target format (F32→F32, F16→F16) is used in place from the source's mapping; every
 * other one is converted row by row into an off-heap arena (never a whole tensor on the heap). The source must stay
 * open while the weights are used; closing the weights closes both.
 */
public final class LlamaWeights implements AutoCloseable {

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One decoder block. Projections are [out, in] as in Hugging Face; biases are null unless the model has them. */
    public record Layer(
            float[] attnNorm,   // [dim]
            WeightTensor q,     // [heads*headDim, dim]
            WeightTensor k,     // [kvHeads*headDim, dim]
            WeightTensor v,     // [kvHeads*headDim, dim]
            float[] qBias,      // [heads*headDim] or null
            float[] kBias,      // [kvHeads*headDim] or null
            float[] vBias,      // [kvHeads*headDim] or null
            WeightTensor o,     // [dim, heads*headDim]
            float[] mlpNorm,    // [dim]
            WeightTensor gate,  // [ffn, dim]
            WeightTensor up,    // [ffn, dim]
            WeightTensor down) { // [dim, ffn]

        public WeightTensor projection(Projection p) {
            return switch (p) {
                case Q -> q;
                case K -> k;
                case V -> v;
                case O -> o;
                case GATE -> gate;
                case UP -> up;
                case DOWN -> down;
            };
        }
    }

    private final LlamaConfig config;
    private final QuantRule rule;
    private final WeightTensor embedding; // [vocab, dim]
    private final Layer[] layers;         // [layers]
    private final float[] finalNorm;      // [dim]
    private final WeightTensor head;      // [vocab, dim]; the embedding itself when tied
    private final Arena arena;
    private final AutoCloseable source;

    private LlamaWeights(LlamaConfig config, QuantRule rule, WeightTensor embedding, Layer[] layers, float[] finalNorm,
                         WeightTensor head, Arena arena, AutoCloseable source) {
        this.config = config;
        this.rule = rule;
        this.embedding = embedding;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.head = head;
        this.arena = arena;
        this.source = source;
    }

    /**
     * Loads every tensor the config calls for from {@code source}, checking shapes and rejecting non-finite values.
     *
     * @throws IllegalArgumentException naming the tensor that is missing, misshapen or not finite
     */
    public static LlamaWeights load(LlamaConfig config, TensorSource source, QuantRule rule) {
        Arena arena = Arena.ofShared();
        try {
            int dim = config.hiddenSize();
            int qDim = config.numHeads() * config.headDim();
            int kvDim = config.numKvHeads() * config.headDim();
            int ffn = config.intermediateSize();
            var loader = new Loader(source, arena);
            Layer[] layers = new Layer[config.numLayers()];
            for (int l = 0; l < layers.length; l++) {
                String p = "model.layers." + l + ".";
                boolean bias = config.qkvBias();
                layers[l] = new Layer(
                        loader.vector(p + "input_layernorm.weight", dim),
                        loader.matrix(p + "self_attn.q_proj.weight", qDim, dim, rule, QuantRule.Role.ATTENTION),
                        loader.matrix(p + "self_attn.k_proj.weight", kvDim, dim, rule, QuantRule.Role.ATTENTION),
                        loader.matrix(p + "self_attn.v_proj.weight", kvDim, dim, rule, QuantRule.Role.ATTENTION),
                        bias ? loader.vector(p + "self_attn.q_proj.bias", qDim) : null,
                        bias ? loader.vector(p + "self_attn.k_proj.bias", kvDim) : null,
                        bias ? loader.vector(p + "self_attn.v_proj.bias", kvDim) : null,
                        loader.matrix(p + "self_attn.o_proj.weight", dim, qDim, rule, QuantRule.Role.ATTENTION),
                        loader.vector(p + "post_attention_layernorm.weight", dim),
                        loader.matrix(p + "mlp.gate_proj.weight", ffn, dim, rule, QuantRule.Role.MLP),
                        loader.matrix(p + "mlp.up_proj.weight", ffn, dim, rule, QuantRule.Role.MLP),
                        loader.matrix(p + "mlp.down_proj.weight", dim, ffn, rule, QuantRule.Role.MLP));
            }
            WeightTensor embedding = loader.matrix("model.embed_tokens.weight", config.vocabSize(), dim, rule,
                    QuantRule.Role.HEAD);
            WeightTensor head = config.tieWordEmbeddings() && source.find("lm_head.weight").isEmpty()
                    ? embedding
                    : loader.matrix("lm_head.weight", config.vocabSize(), dim, rule, QuantRule.Role.HEAD);
            float[] finalNorm = loader.vector("model.norm.weight", dim);
            return new LlamaWeights(config, rule, embedding, layers, finalNorm, head, arena, source);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Reads tensors from one source into one arena. */
    private record Loader(TensorSource source, Arena arena) {

        TensorInfo info(String name, long... shape) {
            TensorInfo info = source.find(name)
                    .orElseThrow(() -> new IllegalArgumentException("tensor " + name + " is missing"));
            if (!Arrays.equals(info.shape(), shape)) {
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(info.shape())
                        + ", the config implies " + Arrays.toString(shape));
            }
            return info;
        }

        float[] vector(String name, int n) {
            info(name, n);
            float[] v = source.floats(name);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new IllegalArgumentException("tensor " + name + ": element " + i + " is not finite");
                }
            }
            return v;
        }

        WeightTensor matrix(String name, int rows, int cols, QuantRule rule, QuantRule.Role role) {
            TensorInfo info = info(name, rows, cols);
            WeightFormat format = rule.formatFor(role, cols);
            MemorySegment stored = source.bytes(name);
            if (format == WeightFormat.F16 && info.dtype() == DType.F16) {
                return new F16Tensor(stored, rows, cols).checkFinite("tensor " + name);
            }
            float[] row = new float[cols];
            if (format == WeightFormat.F32 && info.dtype() == DType.F32) {
                for (int r = 0; r < rows; r++) {
                    readRow(name, stored, info.dtype(), r, row);
                }
                return new F32Tensor(stored, rows, cols);
            }
            MemorySegment out = arena.allocate(format.byteSize(rows, cols), 64);
            for (int r = 0; r < rows; r++) {
                readRow(name, stored, info.dtype(), r, row);
                switch (format) {
                    case F32 -> MemorySegment.copy(row, 0, out, LE_FLOAT, (long) r * cols * Float.BYTES, cols);
                    case F16 -> {
                        long base = (long) r * cols * Short.BYTES;
                        for (int i = 0; i < cols; i++) {
                            out.set(LE_SHORT, base + (long) i * Short.BYTES, HalfFloat.floatToF16(row[i]));
                        }
                    }
                    case Q8_0 -> Q8_0.quantize(row, 0, cols, out, (long) r * (cols / WeightFormat.BLOCK) * Q8_0.BYTES_PER_BLOCK);
                    case Q4_0 -> Q4_0.quantize(row, 0, cols, out, (long) r * (cols / WeightFormat.BLOCK) * Q4_0.BYTES_PER_BLOCK);
                }
            }
            return switch (format) {
                case F32 -> new F32Tensor(out, rows, cols);
                case F16 -> new F16Tensor(out, rows, cols).checkFinite("tensor " + name);
                case Q8_0 -> new Q8_0Tensor(out, rows, cols);
                case Q4_0 -> new Q4_0Tensor(out, rows, cols);
            };
        }

        /** Row {@code r} widened to F32 (exact for F16 and BF16), rejecting infinities and NaN. */
        static void readRow(String name, MemorySegment stored, DType dtype, int r, float[] row) {
            int cols = row.length;
            long base = (long) r * cols * dtype.bytes();
            switch (dtype) {
                case F32 -> MemorySegment.copy(stored, LE_FLOAT, base, row, 0, cols);
                case F16 -> {
                    for (int i = 0; i < cols; i++) {
                        row[i] = HalfFloat.f16ToFloat(stored.get(LE_SHORT, base + (long) i * Short.BYTES));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < cols; i++) {
                        row[i] = HalfFloat.bf16ToFloat(stored.get(LE_SHORT, base + (long) i * Short.BYTES));
                    }
                }
            }
            for (int i = 0; i < cols; i++) {
                if (!Float.isFinite(row[i])) {
                    throw new IllegalArgumentException("tensor " + name + ": element [" + r + ", " + i + "] is not finite");
                }
            }
        }
    }

    public LlamaConfig config() {
        return config;
    }

    public QuantRule rule() {
        return rule;
    }

    public WeightTensor embedding() {
        return embedding;
    }

    public Layer layer(int l) {
        return layers[l];
    }

    public float[] finalNorm() {
        return finalNorm;
    }

    public WeightTensor head() {
        return head;
    }

    /**
     * Bytes of weights one decode step streams: every block matrix and the head, plus one embedding row (the token
     * looked up), as llama.cpp counts it. Used for bandwidth figures.
     */
    public long bytesPerToken() {
        long total = head.byteSize() + embedding.byteSize() / config.vocabSize();
        for (Layer l : layers) {
            for (Projection p : Projection.values()) {
                total += l.projection(p).byteSize();
            }
        }
        return total;
    }

    @Override
    public void close() {
        arena.close();
        try {
            source.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the weights' source failed", e);
        }
    }
}
