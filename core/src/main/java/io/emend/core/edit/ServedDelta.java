package io.emend.core.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.LowRankDelta;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Edit factors as the quantized engine's low-rank deltas, so an edit is served over the unchanged (quantized) base as
 * {@code y += U (Vᵀ x)} instead of being materialized and re-quantized: {@code A = Vᵀ} [rank, in] and {@code B = U}
 * [out, rank], scale 1. The factors are in {@code Linear} orientation for both families (GPT-2's Conv1D included, see
 * {@link EditDelta}), which is the [out, in] the engine holds every matrix in.
 */
public final class ServedDelta {

    private ServedDelta() {
    }

    /**
     * @throws IllegalArgumentException for a factor on a weight that is not a projection of a layer (Llama family
     *                                  or GPT-2)
     */
    public static Adapter adapter(String name, EditDelta delta) {
        Map<Adapter.Target, List<LowRankDelta>> deltas = new HashMap<>();
        for (Map.Entry<String, EditDelta.Factors> e : delta.factors().entrySet()) {
            String weight = e.getKey();
            if (!weight.endsWith(".weight")) {
                throw new IllegalArgumentException("edit factor on " + weight + " is not on a layer's projection");
            }
            EditDelta.Factors f = e.getValue();
            float[] a = new float[f.rank() * f.in()];
            float[] v = f.v();
            for (int i = 0; i < f.in(); i++) {
                for (int r = 0; r < f.rank(); r++) {
                    a[r * f.in() + i] = v[i * f.rank() + r];
                }
            }
            String module = weight.substring(0, weight.length() - ".weight".length());
            Adapter.onModule(module, new LowRankDelta(a, f.u(), f.rank(), f.in(), f.out(), 1f))
                    .orElseThrow(() -> new IllegalArgumentException("edit factor on " + weight
                            + " is not on a layer's projection"))
                    .forEach((t, d) -> deltas.computeIfAbsent(t, k -> new ArrayList<>()).add(d));
        }
        return new Adapter(name, deltas);
    }
}
