package io.emend.core.graph;

import java.util.List;

/**
 * Token ids for a batch of sequences padded to one length, with the mask saying which entries are real (1) and which
 * are padding (0). Padding may sit on either side; the forward derives positions and attention from the mask.
 *
 * @param ids  [batch][length]
 * @param mask [batch][length], 0 or 1
 */
public record TokenBatch(int[][] ids, int[][] mask) {

    /** Which end of a shorter sequence gets the padding. Left padding keeps every row's last token at the end. */
    public enum Padding { LEFT, RIGHT }

    public TokenBatch {
        if (ids.length == 0) {
            throw new IllegalArgumentException("a token batch needs at least one sequence");
        }
        if (mask.length != ids.length) {
            throw new IllegalArgumentException("mask has " + mask.length + " rows, ids have " + ids.length);
        }
        int length = ids[0].length;
        if (length == 0) {
            throw new IllegalArgumentException("a token batch needs at least one position");
        }
        int[][] idsCopy = new int[ids.length][];
        int[][] maskCopy = new int[ids.length][];
        for (int b = 0; b < ids.length; b++) {
            if (ids[b].length != length || mask[b].length != length) {
                throw new IllegalArgumentException("row " + b + " is not padded to length " + length);
            }
            for (int m : mask[b]) {
                if (m != 0 && m != 1) {
                    throw new IllegalArgumentException("mask entries must be 0 or 1, row " + b + " has " + m);
                }
            }
            idsCopy[b] = ids[b].clone();
            maskCopy[b] = mask[b].clone();
        }
        ids = idsCopy;
        mask = maskCopy;
    }

    /** One unpadded sequence. */
    public static TokenBatch of(int... ids) {
        int[] ones = new int[ids.length];
        java.util.Arrays.fill(ones, 1);
        return new TokenBatch(new int[][] {ids}, new int[][] {ones});
    }

    /** Sequences padded with {@code padId} to the longest one. */
    public static TokenBatch padded(List<int[]> sequences, Padding side, int padId) {
        int length = 0;
        for (int[] s : sequences) {
            length = Math.max(length, s.length);
        }
        int[][] ids = new int[sequences.size()][length];
        int[][] mask = new int[sequences.size()][length];
        for (int b = 0; b < sequences.size(); b++) {
            int[] s = sequences.get(b);
            int offset = side == Padding.LEFT ? length - s.length : 0;
            java.util.Arrays.fill(ids[b], padId);
            for (int t = 0; t < s.length; t++) {
                ids[b][offset + t] = s[t];
                mask[b][offset + t] = 1;
            }
        }
        return new TokenBatch(ids, mask);
    }

    @Override
    public int[][] ids() {
        return deepCopy(ids);
    }

    @Override
    public int[][] mask() {
        return deepCopy(mask);
    }

    public int batchSize() {
        return ids.length;
    }

    public int length() {
        return ids[0].length;
    }

    public int id(int b, int t) {
        return ids[b][t];
    }

    public boolean real(int b, int t) {
        return mask[b][t] == 1;
    }

    /** Index of the last real token in row b, or the last index when the row has none. */
    public int lastReal(int b) {
        for (int t = ids[b].length - 1; t >= 0; t--) {
            if (mask[b][t] == 1) {
                return t;
            }
        }
        return ids[b].length - 1;
    }

    /**
     * The position of every entry: row b's real tokens count up from {@code start[b]} (the real tokens already in a
     * cache); a padding entry gets the position of the next real token, a value nothing reads.
     */
    public int[][] positions(int[] start) {
        int[][] pos = new int[ids.length][ids[0].length];
        for (int b = 0; b < ids.length; b++) {
            int next = start[b];
            for (int t = 0; t < ids[b].length; t++) {
                pos[b][t] = next;
                next += mask[b][t];
            }
        }
        return pos;
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}
