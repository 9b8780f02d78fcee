package io.emend.core.graph;

import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/** F32 tensors held in heap arrays: a checkpoint for tests that need one without a file. */
final class InMemoryTensors implements TensorSource {

    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();

    InMemoryTensors put(String name, float[] data, long... shape) {
        TensorInfo info = new TensorInfo(name, DType.F32, shape);
        if (info.elements() != data.length) {
            throw new IllegalArgumentException(name + ": " + data.length + " values for shape " + info);
        }
        infos.put(name, info);
        values.put(name, data.clone());
        return this;
    }

    /** A tensor of N(0, std²) values. */
    InMemoryTensors random(String name, SplittableRandom rng, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] data = new float[(int) n];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (rng.nextGaussian() * std);
        }
        return put(name, data, shape);
    }

    InMemoryTensors without(String name) {
        infos.remove(name);
        values.remove(name);
        return this;
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
        float[] v = floats(name);
        MemorySegment s = MemorySegment.ofArray(new byte[v.length * 4]);
        for (int i = 0; i < v.length; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i, v[i]);
        }
        return s.asReadOnly();
    }

    @Override
    public float[] floats(String name) {
        float[] v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return v.clone();
    }

    @Override
    public void close() {
    }
}
