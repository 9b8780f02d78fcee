package io.emend.core.train.data;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Which rows each optimizer step reads. Row {@code k} of the run (counting micro-batch rows from the start) is the
 * {@code k mod N}-th row of epoch {@code k / N}'s permutation, and each epoch's permutation comes from the seed and the
 * epoch number alone. So the data position is a pure function of (seed, step): a resumed run needs only the step to
 * continue exactly where it stopped.
 */
public final class SequenceOrder {

    private final List<PackedSequence> rows;
    private final long seed;
    private final Map<Long, int[]> permutations = new HashMap<>();

    public SequenceOrder(List<PackedSequence> rows, long seed) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("no training rows: the data has no token to learn from");
        }
        this.rows = List.copyOf(rows);
        this.seed = seed;
    }

    public int size() {
        return rows.size();
    }

    /** Rows {@code [first, first + count)} of the run. */
    public List<PackedSequence> slice(long first, int count) {
        List<PackedSequence> out = new ArrayList<>(count);
        for (long k = first; k < first + count; k++) {
            long epoch = k / rows.size();
            int[] p = permutations.computeIfAbsent(epoch,
                    e -> Order.permutation(rows.size(), new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (e + 1)))));
            out.add(rows.get(p[(int) (k % rows.size())]));
            if (permutations.size() > 2) {
                permutations.keySet().removeIf(e -> e < epoch - 1);
            }
        }
        return out;
    }
}
