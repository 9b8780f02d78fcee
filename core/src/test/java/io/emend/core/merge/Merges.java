package io.emend.core.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Runs a method on small heap tensors, the way the executor would, for the math tests. */
final class Merges {

    private Merges() {
    }

    static float[] run(MergeMethod method, float[] base, List<float[]> models, List<Map<String, Double>> perModel,
                       Map<String, Double> global, int chunk) {
        List<TensorView> views = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            views.add(TensorView.of(models.get(i), "model " + (i + 1)));
        }
        int n = base != null ? base.length : models.getFirst().length;
        float[] out = new float[n];
        method.merge(new TensorMerge("t", Optional.ofNullable(base).map(b -> TensorView.of(b, "base")), views,
                perModel.stream().map(TensorParameters::of).toList(), TensorParameters.of(global), 42L,
                TensorSink.of(out), chunk));
        return out;
    }

    static float[] run(MergeMethod method, float[] base, List<float[]> models, List<Map<String, Double>> perModel,
                       Map<String, Double> global) {
        return run(method, base, models, perModel, global, TensorMerge.DEFAULT_CHUNK);
    }

    static float[] random(java.util.Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }
}
