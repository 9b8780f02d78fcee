package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of one forward: a sub-manager of the caller's scope that owns every intermediate, the options, and the
 * captures. On {@link #finish} the results move to the caller's scope and the intermediates are freed; PyTorch's
 * autograd graph keeps its own references to what backward needs, so closing the handles does not break gradients as
 * long as PyTorch owns the memory. Op results are PyTorch's; arrays built here from Java values (ids, positions, RoPE
 * tables, the mask) go through {@link Constant}, since backward may read them after this scope is closed.
 */
final class ForwardPass implements AutoCloseable {

    private static final NDIndex ALL_2D = new NDIndex(":, :");
    private static final NDIndex ALL_1D = new NDIndex(":");

    final NDManager step;
    private final NDManager scope;
    private final Weights weights;
    private final ForwardOptions options;
    private final Map<Probe, NDArray> captured = new LinkedHashMap<>();

    ForwardPass(NDManager scope, Weights weights, ForwardOptions options, int layers) {
        weights.validate(options.deltas());
        for (Probe p : options.captures()) {
            if (p.layer() >= layers) {
                throw new IllegalArgumentException("probe " + p + " names layer " + p.layer() + " but the model has "
                        + layers + " layers");
            }
        }
        this.scope = scope;
        this.step = scope.newSubManager();
        this.weights = weights;
        this.options = options;
    }

    /** [B, T] int64 ids in the step scope; padding entries become 0 so any pad id is safe to look up. */
    NDArray ids(TokenBatch tokens) {
        int batch = tokens.batchSize();
        int length = tokens.length();
        long[] flat = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                flat[b * length + t] = tokens.real(b, t) ? tokens.id(b, t) : 0;
            }
        }
        return Constant.of(step, flat, new Shape(batch, length));
    }

    /** [B, T] int64 positions in the step scope, clamped below {@code limit} (padding may point one past the end). */
    NDArray positions(int[][] positions, int limit) {
        int batch = positions.length;
        int length = positions[0].length;
        long[] flat = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                flat[b * length + t] = Math.min(positions[b][t], limit - 1);
            }
        }
        return Constant.of(step, flat, new Shape(batch, length));
    }

    /** Rows of an embedding table (with dense deltas applied) for ids; the op is ids-first so it lands in the step. */
    NDArray embed(NDArray ids, String table) {
        return ids.getNDArrayInternal().embedding(ids, weight(table), SparseFormat.DENSE).singletonOrThrow();
    }

    /**
     * A weight for use as the second operand of an op. Without dense deltas it is the stored array itself (never the
     * first operand of anything, so nothing new attaches to the base manager); with them, the sum formed in the step.
     */
    NDArray weight(String name) {
        NDArray stored = weights.get(name);
        List<WeightDelta> deltas = options.deltas().getOrDefault(name, List.of());
        if (deltas.isEmpty()) {
            return stored;
        }
        NDArray sum = view(stored);
        for (WeightDelta delta : deltas) {
            if (delta instanceof WeightDelta.Dense d) {
                sum = sum.add(d.d());
            }
        }
        return sum;
    }

    /** The weight as an array owned by the step, so ops may take it as their first operand (a transpose). */
    NDArray owned(String name) {
        NDArray w = weight(name);
        return w.getManager() == step ? w : view(w);
    }

    private NDArray view(NDArray stored) {
        return stored.get(step, stored.getShape().dimension() == 2 ? ALL_2D : ALL_1D);
    }

    /** {@code x · W (+ b) + Σ deltas} for a projection named by its weight; the bias is the weight's {@code .bias}. */
    NDArray project(String weightName, NDArray x) {
        NDArray y = x.matMul(weights.get(weightName));
        String biasName = weightName.substring(0, weightName.length() - "weight".length()) + "bias";
        if (weights.has(biasName)) {
            y = y.add(weight(biasName));
        }
        for (WeightDelta delta : options.deltas().getOrDefault(weightName, List.of())) {
            y = switch (delta) {
                case WeightDelta.LowRank l -> y.add(dropped(x, l.dropout()).matMul(l.a()).matMul(l.b())
                        .mul(Constant.of(x, l.scale())));
                case WeightDelta.Dense d -> y.add(x.matMul(d.d()));
            };
        }
        return y;
    }

    /** x with each entry zeroed with probability p and the rest scaled by 1/(1-p); x itself when p is 0. */
    private static NDArray dropped(NDArray x, double p) {
        return p == 0 ? x : x.getNDArrayInternal().dropout(x, (float) p, true).singletonOrThrow();
    }

    /** Runs the intervention and records the value when the probe was requested. */
    NDArray probe(Site site, int layer, NDArray value) {
        Probe p = new Probe(site, layer);
        NDArray v = options.intervention() == null ? value : options.intervention().at(p, value);
        if (options.captures().contains(p)) {
            captured.put(p, v);
        }
        return v;
    }

    /** Hidden states [B, T, H] reduced to what the logits scope needs: all rows, or each row's last real token. */
    NDArray headInput(NDArray hidden, TokenBatch batch) {
        if (options.logits() != LogitsScope.LAST) {
            return hidden;
        }
        NDList rows = new NDList(batch.batchSize());
        for (int b = 0; b < batch.batchSize(); b++) {
            rows.add(hidden.get(b, batch.lastReal(b)));
        }
        return NDArrays.stack(rows);
    }

    ForwardResult finish(NDArray logits) {
        if (logits != null) {
            logits.attach(scope);
        }
        for (NDArray v : captured.values()) {
            v.attach(scope);
        }
        return new ForwardResult(logits, captured);
    }

    @Override
    public void close() {
        step.close();
    }
}
