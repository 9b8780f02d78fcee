package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One model's parameters: F32 arrays in the model's base manager, keyed by canonical Hugging Face name. Projections
 * are stored {@code [in, out]} so every forward op is activation-first ({@code x.matMul(w)}): the result then belongs
 * to the activation's scope, and the base manager never gains an array after loading.
 */
final class Weights implements AutoCloseable {

    private final NDManager manager;
    private final Map<String, NDArray> arrays = new LinkedHashMap<>();
    private final Set<String> projections = new HashSet<>();
    private final WeightInit init;

    Weights(WeightInit init) {
        this.manager = NDManager.newBaseManager();
        this.init = init;
    }

    /** A projection whose source stores {@code [out, in]} (Hugging Face {@code Linear}); kept transposed. */
    void linear(String name, String stored, long out, long in) {
        put(name, init.create(manager, stored, new long[] {out, in}, WeightInit.Kind.MATRIX, true), true);
    }

    /** A projection whose source already stores {@code [in, out]} (GPT-2 {@code Conv1D}). */
    void conv1d(String name, String stored, long in, long out) {
        put(name, init.create(manager, stored, new long[] {in, out}, WeightInit.Kind.MATRIX, false), true);
    }

    void embedding(String name, String stored, long rows, long dim) {
        put(name, init.create(manager, stored, new long[] {rows, dim}, WeightInit.Kind.MATRIX, false), false);
    }

    void gain(String name, String stored, long dim) {
        put(name, init.create(manager, stored, new long[] {dim}, WeightInit.Kind.GAIN, false), false);
    }

    void bias(String name, String stored, long dim) {
        put(name, init.create(manager, stored, new long[] {dim}, WeightInit.Kind.BIAS, false), false);
    }

    private void put(String name, NDArray array, boolean projection) {
        array.setName(name);
        arrays.put(name, array);
        if (projection) {
            projections.add(name);
        }
    }

    boolean has(String name) {
        return arrays.containsKey(name);
    }

    NDArray get(String name) {
        NDArray a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return a;
    }

    boolean isProjection(String name) {
        return projections.contains(name);
    }

    List<String> names() {
        return List.copyOf(arrays.keySet());
    }

    long parameterCount() {
        long n = 0;
        for (NDArray a : arrays.values()) {
            n += a.size();
        }
        return n;
    }

    /** Rejects deltas that name unknown weights or do not fit their weight's shape. */
    void validate(Map<String, List<WeightDelta>> deltas) {
        for (Map.Entry<String, List<WeightDelta>> e : deltas.entrySet()) {
            String name = e.getKey();
            if (!arrays.containsKey(name)) {
                throw new IllegalArgumentException("delta targets unknown weight " + name + "; known weights include "
                        + String.join(", ", names().subList(0, Math.min(6, arrays.size()))) + ", ...");
            }
            Shape shape = arrays.get(name).getShape();
            for (WeightDelta delta : e.getValue()) {
                switch (delta) {
                    case WeightDelta.Dense d -> {
                        if (!d.d().getShape().equals(shape)) {
                            throw new IllegalArgumentException("dense delta for " + name + " has shape "
                                    + d.d().getShape() + ", the weight is " + shape);
                        }
                    }
                    case WeightDelta.LowRank l -> {
                        if (!projections.contains(name)) {
                            throw new IllegalArgumentException("low-rank deltas apply to projection weights; " + name
                                    + " is not one (use a dense delta)");
                        }
                        Shape a = l.a().getShape();
                        Shape b = l.b().getShape();
                        if (a.dimension() != 2 || b.dimension() != 2 || a.get(0) != shape.get(0)
                                || b.get(1) != shape.get(1) || a.get(1) != b.get(0)) {
                            throw new IllegalArgumentException("low-rank delta for " + name + " needs a [" + shape.get(0)
                                    + ", r] and b [r, " + shape.get(1) + "], got a " + a + " and b " + b);
                        }
                    }
                }
            }
        }
    }

    List<String> missingFrom(Iterable<String> required) {
        List<String> missing = new ArrayList<>();
        for (String r : required) {
            if (!arrays.containsKey(r)) {
                missing.add(r);
            }
        }
        return missing;
    }

    @Override
    public void close() {
        manager.close();
    }
}
