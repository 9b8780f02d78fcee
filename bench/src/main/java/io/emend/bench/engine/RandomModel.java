package io.emend.bench.engine;

import io.emend.core.model.LlamaConfig;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.HalfFloat;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A random Llama checkpoint held off-heap, like the ones llama.cpp's figures in ANCHORS.md were measured on: every
 * matrix F16 N(0, 0.02), norms F32 ones, untied head. Speed does not depend on the values.
 */
final class RandomModel implements TensorSource {

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The two shapes of ANCHORS.md. */
    static LlamaConfig shape(String name) {
        return switch (name) {
            case "110m" -> new LlamaConfig("llama", 768, 2048, 12, 12, 12, 64, 32000, 2048, 1e-5, 10000, false, false, 1, 2);
            case "1.1b" -> new LlamaConfig("llama", 2048, 5632, 22, 32, 4, 64, 32000, 2048, 1e-5, 10000, false, false, 1, 2);
            default -> throw new IllegalArgumentException("unknown shape '" + name + "' (expected 110m or 1.1b)");
        };
    }

    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, MemorySegment> data = new LinkedHashMap<>();

    RandomModel(LlamaConfig c, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int dim = c.hiddenSize();
        int qDim = c.numHeads() * c.headDim();
        int kvDim = c.numKvHeads() * c.headDim();
        matrix("model.embed_tokens.weight", c.vocabSize(), dim, random);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            ones(p + "input_layernorm.weight", dim);
            matrix(p + "self_attn.q_proj.weight", qDim, dim, random);
            matrix(p + "self_attn.k_proj.weight", kvDim, dim, random);
            matrix(p + "self_attn.v_proj.weight", kvDim, dim, random);
            matrix(p + "self_attn.o_proj.weight", dim, qDim, random);
            ones(p + "post_attention_layernorm.weight", dim);
            matrix(p + "mlp.gate_proj.weight", c.intermediateSize(), dim, random);
            matrix(p + "mlp.up_proj.weight", c.intermediateSize(), dim, random);
            matrix(p + "mlp.down_proj.weight", dim, c.intermediateSize(), random);
        }
        ones("model.norm.weight", dim);
        matrix("lm_head.weight", c.vocabSize(), dim, random);
    }

    private void matrix(String name, int rows, int cols, SplittableRandom random) {
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * Short.BYTES, 64);
        for (long i = 0; i < n; i++) {
            seg.set(LE_SHORT, i * Short.BYTES, HalfFloat.floatToF16((float) (gaussian(random) * 0.02)));
        }
        infos.put(name, new TensorInfo(name, DType.F16, new long[] {rows, cols}));
        data.put(name, seg);
    }

    /** Sum of four uniforms, rescaled to unit variance: Gaussian enough for speed tests and much faster. */
    private static double gaussian(SplittableRandom random) {
        return (random.nextDouble() + random.nextDouble() + random.nextDouble() + random.nextDouble() - 2.0) * Math.sqrt(3.0);
    }

    private void ones(String name, int n) {
        MemorySegment seg = arena.allocate((long) n * Float.BYTES, 64);
        for (int i = 0; i < n; i++) {
            seg.set(LE_FLOAT, (long) i * Float.BYTES, 1f);
        }
        infos.put(name, new TensorInfo(name, DType.F32, new long[] {n}));
        data.put(name, seg);
    }

    @Override
    public List<TensorInfo> tensors() {
        return new ArrayList<>(infos.values());
    }

    @Override
    public Optional<TensorInfo> find(String name) {
        return Optional.ofNullable(infos.get(name));
    }

    @Override
    public MemorySegment bytes(String name) {
        MemorySegment seg = data.get(name);
        if (seg == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return seg;
    }

    @Override
    public float[] floats(String name) {
        TensorInfo info = infos.get(name);
        MemorySegment seg = bytes(name);
        float[] out = new float[(int) info.elements()];
        for (int i = 0; i < out.length; i++) {
            out[i] = info.dtype() == DType.F32 ? seg.get(LE_FLOAT, (long) i * Float.BYTES)
                    : HalfFloat.f16ToFloat(seg.get(LE_SHORT, (long) i * Short.BYTES));
        }
        return out;
    }

    /** Keeps the data: the bench loads the same model several times (once per format and thread count). */
    @Override
    public void close() {
    }

    void free() {
        arena.close();
    }
}
