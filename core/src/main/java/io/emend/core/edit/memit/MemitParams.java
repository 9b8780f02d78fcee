package io.emend.core.edit.memit;

import io.emend.core.edit.TargetOptions;

import java.util.List;

/**
 * MEMIT's settings.
 *
 * @param layers          the layers edited, ascending and contiguous; the target z is set at the last one's output
 * @param covarianceWeight λ: weight of the preserved keys' second moment against the edits' keys (MEMIT's
 *                        {@code mom2_update_weight}; 15000 for GPT-J, 20000 for GPT-2 XL). Scale-free: C is a
 *                        per-token average, so λ reads as "preserve as if λ ordinary tokens were seen"
 * @param target          how z is optimised
 */
public record MemitParams(List<Integer> layers, double covarianceWeight, TargetOptions target) {

    public MemitParams {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("MEMIT needs at least one layer");
        }
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) < 0 || (i > 0 && layers.get(i) != layers.get(i - 1) + 1)) {
                throw new IllegalArgumentException("MEMIT layers must be ascending, contiguous and >= 0, got " + layers);
            }
        }
        if (!(covarianceWeight >= 0)) {
            throw new IllegalArgumentException("covarianceWeight must be >= 0, got " + covarianceWeight);
        }
    }

    /** The layers {@code first..last}, inclusive. */
    public static List<Integer> range(int first, int last) {
        return java.util.stream.IntStream.rangeClosed(first, last).boxed().toList();
    }
}
