package io.emend.core.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.LowRankDelta;
import io.emend.core.infer.Projection;

import java.util.HashMap;
import java.util.Map;

/**
 * Edit factors as the quantized engine's low-rank deltas, so an edit is served over the unchanged (quantized) base as
 * {@code y += U (Vᵀ x)} instead of being materialized and re-quantized: {@code A = Vᵀ} [rank, in] and {@code B = U}
 * [out, rank], scale 1.
 */
public final class ServedDelta {

    private ServedDelta() {
    }

    /**
     * @throws IllegalArgumentException for a factor on a weight that is not a layer's projection of the Llama family
     *                                  (the engine runs that family only)
     */
    public static Adapter adapter(String name, EditDelta delta) {
        Map<Adapter.Target, LowRankDelta> deltas = new HashMap<>();
        for (Map.Entry<String, EditDelta.Factors> e : delta.factors().entrySet()) {
            String weight = e.getKey();
            String[] parts = weight.split("\\.");
            if (parts.length < 4 || !weight.startsWith("model.layers.") || !weight.endsWith(".weight")) {
                throw new IllegalArgumentException("edit factor on " + weight + " is not on a Llama layer's projection");
            }
            int layer = Integer.parseInt(parts[2]);
            String module = weight.substring(0, weight.length() - ".weight".length());
            Projection p = Projection.fromModulePath(module).orElseThrow(
                    () -> new IllegalArgumentException("edit factor on " + weight + " is not on a projection"));
            EditDelta.Factors f = e.getValue();
            float[] a = new float[f.rank() * f.in()];
            float[] v = f.v();
            for (int i = 0; i < f.in(); i++) {
                for (int r = 0; r < f.rank(); r++) {
                    a[r * f.in() + i] = v[i * f.rank() + r];
                }
            }
            deltas.put(new Adapter.Target(layer, p), new LowRankDelta(a, f.u(), f.rank(), f.in(), f.out(), 1f));
        }
        return Adapter.of(name, deltas);
    }
}
