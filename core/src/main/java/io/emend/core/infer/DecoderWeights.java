package io.emend.core.infer;

import io.emend.core.format.gguf.GgufExport;
import io.emend.core.format.gguf.GgufFile;
import io.emend.core.format.gguf.GgufImport;
import io.emend.core.format.gguf.GgufTensor;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
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
 * A decoder's weights (Llama family or GPT-2) in the engine's formats, chosen per matrix by a {@link QuantRule}. A matrix whose
 * stored dtype already is the target format (F32→F32, F16→F16) is used in place from the source's mapping; every
 * other one is converted row by row into an off-heap arena (never a whole tensor on the heap). From a GGUF file every
 * matrix is used as stored, whatever its type. The source must stay open while the weights are used; closing the
 * weights closes both.
 *
 * <p>GPT-2 is held in the same shape: its Conv1D matrices ({@code x @ W}, stored [in, out]) are transposed at load to
 * the [out, in] rows every kernel reads, its fused {@code c_attn} is split into q, k and v, its LayerNorms and
 * projections keep their biases, it has no gate (its MLP is {@code down(gelu(up x))}) and it adds learned positions.
 */
public final class DecoderWeights implements AutoCloseable {

    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One decoder block. Projections are [out, in] as in Hugging Face's Linear; biases are null unless the model has
     * them; the norms' biases are null for RMSNorm (Llama) and present for LayerNorm (GPT-2).
     */
    public record Layer(
            float[] attnNorm,     // [dim]
            float[] attnNormBias, // [dim] or null
            WeightTensor q,       // [heads*headDim, dim]
            WeightTensor k,       // [kvHeads*headDim, dim]
            WeightTensor v,       // [kvHeads*headDim, dim]
            float[] qBias,        // [heads*headDim] or null
            float[] kBias,        // [kvHeads*headDim] or null
            float[] vBias,        // [kvHeads*headDim] or null
            WeightTensor o,       // [dim, heads*headDim]
            float[] oBias,        // [dim] or null
            float[] mlpNorm,      // [dim]
            float[] mlpNormBias,  // [dim] or null
            WeightTensor gate,    // [ffn, dim]; null for a GELU MLP (GPT-2)
            WeightTensor up,      // [ffn, dim]
            float[] upBias,       // [ffn] or null
            WeightTensor down,    // [dim, ffn]
            float[] downBias) {   // [dim] or null

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

    private final ModelConfig config;
    private final QuantRule rule;
    private final WeightTensor embedding; // [vocab, dim]
    private final float[] positions;      // [maxPositions * dim] learned positions (GPT-2); null with RoPE
    private final Layer[] layers;         // [layers]
    private final float[] finalNorm;      // [dim]
    private final float[] finalNormBias;  // [dim] or null (RMSNorm)
    private final WeightTensor head;      // [vocab, dim]; the embedding itself when tied
    private final Arena arena;
    private final AutoCloseable source;

    private DecoderWeights(ModelConfig config, QuantRule rule, WeightTensor embedding, float[] positions, Layer[] layers,
                           float[] finalNorm, float[] finalNormBias, WeightTensor head, Arena arena,
                           AutoCloseable source) {
        this.config = config;
        this.rule = rule;
        this.embedding = embedding;
        this.positions = positions;
        this.layers = layers;
        this.finalNorm = finalNorm;
        this.finalNormBias = finalNormBias;
        this.head = head;
        this.arena = arena;
        this.source = source;
    }

    /**
     * Loads every tensor the config calls for from {@code source}, checking shapes and rejecting non-finite values.
     *
     * @throws IllegalArgumentException naming the tensor that is missing, misshapen or not finite
     */
    public static DecoderWeights load(LlamaConfig config, TensorSource source, QuantRule rule) {
        Arena arena = Arena.ofShared();
        try {
            return assemble(config, new Loader(source, arena, rule), rule, arena, source);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Uses a GGUF file's tensors as they are stored (F32, F16, Q8_0, Q4_0: no requantization), memory-mapped, with
     * the config its metadata describes ({@link GgufImport#llamaConfig}). Only q and k are copied: llama.cpp stores
     * their rows in adjacent-pair RoPE order, which {@link GgufExport#interleaveRopeRows} documents, and the engine
     * rotates halves as Hugging Face does, so each head's rows are put back (whole rows, so blocks stay intact).
     * The weights own the file from here: closing them closes it.
     *
     * @throws IllegalArgumentException naming a tensor that is missing, misshapen, of another type or not finite
     */
    public static DecoderWeights load(GgufFile gguf) {
        LlamaConfig config = GgufImport.llamaConfig(gguf);
        Arena arena = Arena.ofShared();
        try {
            GgufLoader loader = new GgufLoader(gguf, config, arena);
            WeightFormat attention = loader.format("model.layers.0.self_attn.q_proj.weight");
            WeightFormat mlp = loader.format("model.layers.0.mlp.gate_proj.weight");
            WeightFormat head = loader.format(config.tieWordEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight");
            return assemble(config, loader, new QuantRule(attention, mlp, head), arena, gguf);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static DecoderWeights assemble(LlamaConfig config, TensorReader loader, QuantRule rule, Arena arena,
                                         AutoCloseable source) {
        int dim = config.hiddenSize();
        int qDim = config.numHeads() * config.headDim();
        int kvDim = config.numKvHeads() * config.headDim();
        int ffn = config.intermediateSize();
        Layer[] layers = new Layer[config.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            boolean bias = config.qkvBias();
            layers[l] = new Layer(
                    loader.vector(p + "input_layernorm.weight", dim), null,
                    loader.matrix(p + "self_attn.q_proj.weight", qDim, dim, QuantRule.Role.ATTENTION),
                    loader.matrix(p + "self_attn.k_proj.weight", kvDim, dim, QuantRule.Role.ATTENTION),
                    loader.matrix(p + "self_attn.v_proj.weight", kvDim, dim, QuantRule.Role.ATTENTION),
                    bias ? loader.vector(p + "self_attn.q_proj.bias", qDim) : null,
                    bias ? loader.vector(p + "self_attn.k_proj.bias", kvDim) : null,
                    bias ? loader.vector(p + "self_attn.v_proj.bias", kvDim) : null,
                    loader.matrix(p + "self_attn.o_proj.weight", dim, qDim, QuantRule.Role.ATTENTION), null,
                    loader.vector(p + "post_attention_layernorm.weight", dim), null,
                    loader.matrix(p + "mlp.gate_proj.weight", ffn, dim, QuantRule.Role.MLP),
                    loader.matrix(p + "mlp.up_proj.weight", ffn, dim, QuantRule.Role.MLP), null,
                    loader.matrix(p + "mlp.down_proj.weight", dim, ffn, QuantRule.Role.MLP), null);
        }
        WeightTensor embedding = loader.matrix("model.embed_tokens.weight", config.vocabSize(), dim,
                QuantRule.Role.HEAD);
        WeightTensor head = config.tieWordEmbeddings() && !loader.has("lm_head.weight")
                ? embedding
                : loader.matrix("lm_head.weight", config.vocabSize(), dim, QuantRule.Role.HEAD);
        float[] finalNorm = loader.vector("model.norm.weight", dim);
        return new DecoderWeights(config, rule, embedding, null, layers, finalNorm, null, head, arena, source);
    }

    /**
     * Loads a GPT-2 checkpoint ({@code GPT2LMHeadModel} names with the {@code transformer.} prefix, or the bare
     * {@code GPT2Model} names without it). The head is {@code wte}.
     *
     * @throws IllegalArgumentException naming the tensor that is missing, misshapen or not finite
     */
    public static DecoderWeights load(Gpt2Config config, TensorSource source, QuantRule rule) {
        Arena arena = Arena.ofShared();
        try {
            Loader loader = new Loader(source, arena, rule);
            String prefix = source.find("transformer.wte.weight").isPresent() ? "transformer." : "";
            int dim = config.hiddenSize();
            int ffn = config.intermediateSize();
            Layer[] layers = new Layer[config.numLayers()];
            for (int l = 0; l < layers.length; l++) {
                String p = prefix + "h." + l + ".";
                float[] qkv = loader.transposed(p + "attn.c_attn.weight", dim, 3 * dim); // [3*dim, dim]: q, k, v rows
                float[] qkvBias = loader.vector(p + "attn.c_attn.bias", 3 * dim);
                String attn = p + "attn.c_attn.weight";
                layers[l] = new Layer(
                        loader.vector(p + "ln_1.weight", dim), loader.vector(p + "ln_1.bias", dim),
                        loader.matrix(attn + " (q rows)", qkv, 0, dim, dim, QuantRule.Role.ATTENTION),
                        loader.matrix(attn + " (k rows)", qkv, dim, dim, dim, QuantRule.Role.ATTENTION),
                        loader.matrix(attn + " (v rows)", qkv, 2 * dim, dim, dim, QuantRule.Role.ATTENTION),
                        Arrays.copyOfRange(qkvBias, 0, dim), Arrays.copyOfRange(qkvBias, dim, 2 * dim),
                        Arrays.copyOfRange(qkvBias, 2 * dim, 3 * dim),
                        loader.matrix(p + "attn.c_proj.weight", loader.transposed(p + "attn.c_proj.weight", dim, dim),
                                0, dim, dim, QuantRule.Role.ATTENTION),
                        loader.vector(p + "attn.c_proj.bias", dim),
                        loader.vector(p + "ln_2.weight", dim), loader.vector(p + "ln_2.bias", dim),
                        null,
                        loader.matrix(p + "mlp.c_fc.weight", loader.transposed(p + "mlp.c_fc.weight", dim, ffn),
                                0, ffn, dim, QuantRule.Role.MLP),
                        loader.vector(p + "mlp.c_fc.bias", ffn),
                        loader.matrix(p + "mlp.c_proj.weight", loader.transposed(p + "mlp.c_proj.weight", ffn, dim),
                                0, dim, ffn, QuantRule.Role.MLP),
                        loader.vector(p + "mlp.c_proj.bias", dim));
            }
            WeightTensor wte = loader.matrix(prefix + "wte.weight", config.vocabSize(), dim, QuantRule.Role.HEAD);
            float[] wpe = loader.vector(prefix + "wpe.weight", config.maxPositions(), dim);
            return new DecoderWeights(config, rule, wte, wpe, layers, loader.vector(prefix + "ln_f.weight", dim),
                    loader.vector(prefix + "ln_f.bias", dim), wte, arena, source);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Where the tensors come from, by Hugging Face name. */
    private interface TensorReader {
        boolean has(String name);

        float[] vector(String name, int n);

        WeightTensor matrix(String name, int rows, int cols, QuantRule.Role role);
    }

    /** Tensors of a GGUF file, looked up under llama.cpp's names, used in place. */
    private record GgufLoader(GgufFile file, LlamaConfig config, Arena arena) implements TensorReader {

        GgufTensor info(String name, long... shape) {
            String stored = GgufExport.ggufName(name);
            GgufTensor t = file.tensor(stored).orElseThrow(() -> new IllegalArgumentException("tensor " + stored
                    + " (" + name + ") is missing"));
            if (!Arrays.equals(t.shape(), shape)) {
                throw new IllegalArgumentException("tensor " + stored + " has shape " + Arrays.toString(t.shape())
                        + ", the metadata implies " + Arrays.toString(shape));
            }
            return t;
        }

        WeightFormat format(String name) {
            String stored = GgufExport.ggufName(name);
            return file.tensor(stored).map(t -> formatOf(t))
                    .orElseThrow(() -> new IllegalArgumentException("tensor " + stored + " (" + name + ") is missing"));
        }

        static WeightFormat formatOf(GgufTensor t) {
            return switch (t.type()) {
                case F32 -> WeightFormat.F32;
                case F16 -> WeightFormat.F16;
                case Q8_0 -> WeightFormat.Q8_0;
                case Q4_0 -> WeightFormat.Q4_0;
            };
        }

        @Override
        public boolean has(String name) {
            return file.tensor(GgufExport.ggufName(name)).isPresent();
        }

        @Override
        public float[] vector(String name, int n) {
            GgufTensor t = info(name, n);
            float[] v = file.floats(t.name());
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new IllegalArgumentException("tensor " + t.name() + ": element " + i + " is not finite");
                }
            }
            return v;
        }

        @Override
        public WeightTensor matrix(String name, int rows, int cols, QuantRule.Role role) {
            GgufTensor t = info(name, rows, cols);
            WeightFormat format = formatOf(t);
            MemorySegment stored = file.bytes(t.name());
            if (name.endsWith("self_attn.q_proj.weight")) {
                stored = halvesFromPairs(stored, rows, format.byteSize(1, cols), config.numHeads());
            } else if (name.endsWith("self_attn.k_proj.weight")) {
                stored = halvesFromPairs(stored, rows, format.byteSize(1, cols), config.numKvHeads());
            }
            String what = "tensor " + t.name();
            return switch (format) {
                case F32 -> checkFinite(new F32Tensor(stored, rows, cols), what);
                case F16 -> new F16Tensor(stored, rows, cols).checkFinite(what);
                case Q8_0 -> checkScales(new Q8_0Tensor(stored, rows, cols), Q8_0.BYTES_PER_BLOCK, what);
                case Q4_0 -> checkScales(new Q4_0Tensor(stored, rows, cols), Q4_0.BYTES_PER_BLOCK, what);
            };
        }

        /**
         * The inverse of export's row order: within each head, Hugging Face row {@code j * headDim/2 + i} is stored
         * row {@code 2i + j}. Copied row by row into the arena.
         */
        private MemorySegment halvesFromPairs(MemorySegment stored, int rows, long rowBytes, int heads) {
            int headDim = rows / heads;
            int half = headDim / 2;
            MemorySegment out = arena.allocate(stored.byteSize(), 64);
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < half; i++) {
                    for (int j = 0; j < 2; j++) {
                        long from = (long) h * headDim + 2L * i + j;
                        long to = (long) h * headDim + (long) j * half + i;
                        MemorySegment.copy(stored, from * rowBytes, out, to * rowBytes, rowBytes);
                    }
                }
            }
            return out;
        }

        private static WeightTensor checkFinite(F32Tensor t, String what) {
            MemorySegment data = t.data();
            long n = (long) t.rows() * t.cols();
            for (long i = 0; i < n; i++) {
                if (!Float.isFinite(data.get(LE_FLOAT, i * Float.BYTES))) {
                    throw new IllegalArgumentException(what + ": element " + i + " is not finite");
                }
            }
            return t;
        }

        /** A block's weights are finite exactly when its F16 scale is, so the scales are all there is to check. */
        private static WeightTensor checkScales(WeightTensor t, int blockBytes, String what) {
            MemorySegment data = t.data();
            long blocks = data.byteSize() / blockBytes;
            for (long b = 0; b < blocks; b++) {
                if ((data.get(LE_SHORT, b * blockBytes) & 0x7c00) == 0x7c00) {
                    throw new IllegalArgumentException(what + ": block " + b + " has a scale that is not finite");
                }
            }
            return t;
        }
    }

    /** Reads tensors from one source into one arena, converting matrices to the rule's formats. */
    private record Loader(TensorSource source, Arena arena, QuantRule rule) implements TensorReader {

        @Override
        public boolean has(String name) {
            return source.find(name).isPresent();
        }

        TensorInfo info(String name, long... shape) {
            TensorInfo info = source.find(name)
                    .orElseThrow(() -> new IllegalArgumentException("tensor " + name + " is missing"));
            if (!Arrays.equals(info.shape(), shape)) {
                throw new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(info.shape())
                        + ", the config implies " + Arrays.toString(shape));
            }
            return info;
        }

        @Override
        public float[] vector(String name, int n) {
            return finite(name, info(name, n));
        }

        /** A small 2-D tensor (GPT-2's learned positions) as one row-major array. */
        float[] vector(String name, int rows, int cols) {
            return finite(name, info(name, rows, cols));
        }

        private float[] finite(String name, TensorInfo info) {
            float[] v = source.floats(name);
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new IllegalArgumentException("tensor " + name + ": element " + i + " is not finite");
                }
            }
            return v;
        }

        /** A Conv1D weight stored [in, out], returned as the row-major [out, in] matrix the kernels read. */
        float[] transposed(String name, int in, int out) {
            float[] stored = finite(name, info(name, in, out));
            float[] t = new float[stored.length];
            for (int i = 0; i < in; i++) {
                for (int o = 0; o < out; o++) {
                    t[o * in + i] = stored[i * out + o];
                }
            }
            return t;
        }

        /** Rows {@code [first, first+rows)} of a row-major heap matrix with {@code cols} columns, in the rule's format. */
        WeightTensor matrix(String what, float[] values, int first, int rows, int cols, QuantRule.Role role) {
            return convert(what, rows, cols, rule.formatFor(role, cols),
                    (r, row) -> System.arraycopy(values, (first + r) * cols, row, 0, cols));
        }

        @Override
        public WeightTensor matrix(String name, int rows, int cols, QuantRule.Role role) {
            TensorInfo info = info(name, rows, cols);
            WeightFormat format = rule.formatFor(role, cols);
            MemorySegment stored = source.bytes(name);
            if (format == WeightFormat.F16 && info.dtype() == DType.F16) {
                return new F16Tensor(stored, rows, cols).checkFinite("tensor " + name);
            }
            if (format == WeightFormat.F32 && info.dtype() == DType.F32) {
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    readRow(name, stored, info.dtype(), r, row);
                }
                return new F32Tensor(stored, rows, cols);
            }
            return convert(name, rows, cols, format, (r, row) -> readRow(name, stored, info.dtype(), r, row));
        }

        /** Where {@link #convert} gets row {@code r} of a matrix, widened to F32 and checked finite. */
        @FunctionalInterface
        interface RowReader {
            void read(int r, float[] row);
        }

        /** A new matrix in the arena in {@code format}, filled row by row. */
        private WeightTensor convert(String name, int rows, int cols, WeightFormat format, RowReader reader) {
            float[] row = new float[cols];
            MemorySegment out = arena.allocate(format.byteSize(rows, cols), 64);
            for (int r = 0; r < rows; r++) {
                reader.read(r, row);
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

    public ModelConfig config() {
        return config;
    }

    /** Learned position embeddings, {@code [maxPositions * dim]} (GPT-2), or null when positions are rotary. */
    public float[] positions() {
        return positions;
    }

    /** The final norm's bias (LayerNorm), or null (RMSNorm). */
    public float[] finalNormBias() {
        return finalNormBias;
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
                WeightTensor w = l.projection(p);
                total += w == null ? 0 : w.byteSize();
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
