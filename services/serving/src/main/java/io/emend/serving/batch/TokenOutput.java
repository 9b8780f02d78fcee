package io.emend.serving.batch;

import java.util.Map;

/**
 * What one step added to a generation.
 *
 * @param token    the new token id, or -1 for the last piece of text that was held back until the end
 * @param text     text that became final with it (possibly empty: a partial character, a possible stop sequence)
 * @param logprob  the token's log-probability and alternatives, when the request asked for them; else null
 */
public record TokenOutput(int token, String text, TokenLogprob logprob) {

    /**
     * @param piece  the token's own text in its context
     * @param value  natural log of its probability under the model (before temperature and top-p)
     * @param top    the most likely tokens' texts and log-probabilities, most likely first
     */
    public record TokenLogprob(String piece, double value, Map<String, Double> top) {
    }
}
