package io.emend.core.infer;

import java.util.Arrays;

/**
 * One sequence's keys and values for every layer, F32, grown by doubling up to the model's context so a short
 * request does not reserve a full context of memory.
 */
public final class KvCache {

    private static final int INITIAL_POSITIONS = 64;

    private final int kvDim;
    private final int maxPositions;
    private final float[][] keys;   // [layers][positions * kvDim]
    private final float[][] values; // [layers][positions * kvDim]
    private int capacity;

    KvCache(int layers, int kvDim, int maxPositions) {
        this.kvDim = kvDim;
        this.maxPositions = maxPositions;
        this.capacity = Math.min(INITIAL_POSITIONS, maxPositions);
        this.keys = new float[layers][capacity * kvDim];
        this.values = new float[layers][capacity * kvDim];
    }

    /** Makes room for positions {@code [0, positions)}. */
    void reserve(int positions) {
        if (positions > maxPositions) {
            throw new IllegalArgumentException("sequence of " + positions + " positions exceeds the model's context of "
                    + maxPositions);
        }
        if (positions <= capacity) {
            return;
        }
        int grown = Math.min(maxPositions, Math.max(positions, capacity * 2));
        for (int l = 0; l < keys.length; l++) {
            keys[l] = Arrays.copyOf(keys[l], grown * kvDim);
            values[l] = Arrays.copyOf(values[l], grown * kvDim);
        }
        capacity = grown;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Bytes held now. */
    public long byteSize() {
        return 2L * keys.length * capacity * kvDim * Float.BYTES;
    }
}
