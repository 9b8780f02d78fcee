package io.emend.core.train.data;

/**
 * A training row: up to {@code seqLen + 1} consecutive tokens of the packed stream. The model reads
 * {@code tokens[0..n-2]} and predicts {@code tokens[1..n-1]}; {@code targets[i]} says whether predicting
 * {@code tokens[i]} counts in the loss.
 *
 * @param tokens  [n], 2 ≤ n ≤ seqLen + 1
 * @param targets [n]
 */
public record PackedSequence(int[] tokens, boolean[] targets) {

    public PackedSequence {
        if (tokens.length != targets.length || tokens.length < 2) {
            throw new IllegalArgumentException("a packed sequence needs at least two tokens and one target flag each");
        }
        tokens = tokens.clone();
        targets = targets.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    @Override
    public boolean[] targets() {
        return targets.clone();
    }

    /** Positions the model reads (one less than the tokens). */
    public int inputLength() {
        return tokens.length - 1;
    }

    int token(int i) {
        return tokens[i];
    }

    boolean target(int i) {
        return targets[i];
    }

    /** Number of predictions that count in the loss. */
    public int targetCount() {
        int n = 0;
        for (int i = 1; i < targets.length; i++) {
            if (targets[i]) {
                n++;
            }
        }
        return n;
    }
}
