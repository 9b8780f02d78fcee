package io.emend.core.train.data;

/**
 * One example as tokens, with which tokens the loss is taken on.
 *
 * @param tokens  ids, BOS first when the model has one
 * @param targets targets[i]: whether predicting tokens[i] counts in the loss (false for the BOS, prompts, user turns)
 * @param line    the JSONL line it came from (1-based), for messages
 */
public record TrainingExample(int[] tokens, boolean[] targets, int line) {

    public TrainingExample {
        if (tokens.length != targets.length) {
            throw new IllegalArgumentException("tokens and targets differ in length: " + tokens.length + " vs "
                    + targets.length);
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

    public int length() {
        return tokens.length;
    }

    int token(int i) {
        return tokens[i];
    }

    boolean target(int i) {
        return targets[i];
    }
}
