package io.emend.core.train.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Packs examples into fixed-length rows: the examples' tokens are concatenated into one stream (each example
 * starts with its own BOS and ends with its EOS, so the model sees where one ends), and the stream is cut into windows
 * of {@code seqLen + 1} tokens that overlap by one, so every token after the first is predicted exactly once. Attention
 * is not blocked at example boundaries inside a row (as in the usual "packing" of Hugging Face's trainers); the BOS
 * marks the start. The last window may be shorter; windows without any loss target are dropped.
 */
public final class Packing {

    private Packing() {
    }

    public static List<PackedSequence> pack(List<TrainingExample> examples, int seqLen) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("sequence length must be at least 1, got " + seqLen);
        }
        int total = 0;
        for (TrainingExample e : examples) {
            total = Math.addExact(total, e.length());
        }
        int[] tokens = new int[total];
        boolean[] targets = new boolean[total];
        int at = 0;
        for (TrainingExample e : examples) {
            for (int i = 0; i < e.length(); i++) {
                tokens[at] = e.token(i);
                targets[at] = e.target(i);
                at++;
            }
        }
        List<PackedSequence> rows = new ArrayList<>();
        for (int start = 0; start + 1 < total; start += seqLen) {
            int end = Math.min(start + seqLen + 1, total);
            PackedSequence s = new PackedSequence(java.util.Arrays.copyOfRange(tokens, start, end),
                    java.util.Arrays.copyOfRange(targets, start, end));
            if (s.targetCount() > 0) {
                rows.add(s);
            }
        }
        return rows;
    }
}
