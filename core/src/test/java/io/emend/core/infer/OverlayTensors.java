package io.emend.core.infer;

import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A real checkpoint with some tensors replaced by F32 values: a merged or re-rounded model for comparisons. */
final class OverlayTensors implements TensorSource {

    private final TensorSource base;
    private final Map<String, float[]> replaced = new HashMap<>();
    private final Arena arena = Arena.ofShared();

    OverlayTensors(TensorSource base) {
        this.base = base;
    }

    void replace(String name, float[] values) {
        TensorInfo info = base.find(name).orElseThrow();
        if (info.elements() != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values for " + info);
        }
        replaced.put(name, values.clone());
    }

    @Override
    public List<TensorInfo> tensors() {
        return base.tensors().stream().map(this::retyped).toList();
    }

    private TensorInfo retyped(TensorInfo i) {
        return replaced.containsKey(i.name()) ? new TensorInfo(i.name(), DType.F32, i.shape()) : i;
    }

    @Override
    public Optional<TensorInfo> find(String name) {
        return base.find(name).map(this::retyped);
    }

    @Override
    public MemorySegment bytes(String name) {
        float[] v = replaced.get(name);
        if (v == null) {
            return base.bytes(name);
        }
        MemorySegment seg = arena.allocate((long) v.length * Float.BYTES);
        MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v.length);
        return seg;
    }

    @Override
    public float[] floats(String name) {
        float[] v = replaced.get(name);
        return v != null ? v.clone() : base.floats(name);
    }

    @Override
    public void close() {
        arena.close();
        base.close();
    }
}
