package io.emend.core.generate;

/**
 * A finished generation.
 *
 * @param tokens the new token ids (an EOS that ended it is not included; the token that completed a stop sequence is)
 * @param text   their text, cut before a stop sequence when one ended it
 * @param reason why it ended
 */
public record Generation(int[] tokens, String text, StopReason reason) {

    public Generation {
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }
}
