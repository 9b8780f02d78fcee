package io.emend.core.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded split of examples into training and held-out parts, made before packing so no example is in both.
 *
 * @param train   examples to train on, in file order
 * @param heldOut examples to measure on, in file order
 */
public record HeldOutSplit(List<TrainingExample> train, List<TrainingExample> heldOut) {

    public HeldOutSplit {
        train = List.copyOf(train);
        heldOut = List.copyOf(heldOut);
    }

    /**
     * Holds out {@code ceil(fraction · n)} examples chosen by a seeded shuffle (at least one when the fraction is
     * positive, and at least one is always left to train on).
     */
    public static HeldOutSplit of(List<TrainingExample> examples, double fraction, long seed) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in [0, 1), got " + fraction);
        }
        int n = examples.size();
        int held = fraction == 0 ? 0 : (int) Math.ceil(fraction * n);
        if (held >= n) {
            throw new IllegalArgumentException("a held-out fraction of " + fraction + " leaves nothing to train on with "
                    + n + " example(s)");
        }
        int[] order = Order.permutation(n, new SplittableRandom(seed));
        boolean[] isHeld = new boolean[n];
        for (int i = 0; i < held; i++) {
            isHeld[order[i]] = true;
        }
        List<TrainingExample> train = new ArrayList<>();
        List<TrainingExample> heldOut = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            (isHeld[i] ? heldOut : train).add(examples.get(i));
        }
        return new HeldOutSplit(train, heldOut);
    }
}
