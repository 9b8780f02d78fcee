package io.emend.core.train.forgetting;

import io.emend.core.train.data.PackedSequence;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Replay: rows from earlier datasets in the model's lineage mixed into the new training rows, so that every batch
 * keeps rehearsing what the parent learned. With fraction f and n new rows, {@code round(n·f/(1-f))} replay rows are
 * added (drawn without replacement while the buffer lasts, then again), so replay makes up f of the rows trained on.
 */
public final class Replay {

    private static final long SALT = 0x5245504CL;

    private Replay() {
    }

    public static List<PackedSequence> mix(List<PackedSequence> fresh, List<PackedSequence> buffer, double fraction,
                                           long seed) {
        if (fraction == 0) {
            return fresh;
        }
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("replay fraction must be in [0, 1), got " + fraction);
        }
        if (buffer.isEmpty()) {
            throw new IllegalArgumentException("a replay fraction of " + fraction + " needs replay data; none was given");
        }
        int wanted = (int) Math.round(fresh.size() * fraction / (1 - fraction));
        List<PackedSequence> out = new ArrayList<>(fresh);
        SplittableRandom random = new SplittableRandom(seed ^ SALT);
        int[] order = io.emend.core.train.data.Order.permutation(buffer.size(), random);
        for (int i = 0; i < wanted; i++) {
            if (i > 0 && i % buffer.size() == 0) {
                order = io.emend.core.train.data.Order.permutation(buffer.size(), random);
            }
            out.add(buffer.get(order[i % buffer.size()]));
        }
        return out;
    }
}
