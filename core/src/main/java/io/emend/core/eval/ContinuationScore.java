package io.emend.core.eval;

/**
 * How likely a model finds a target continuation of a prompt.
 *
 * @param sum      {@code log p(target | prompt)}, natural log: the sum of {@code perToken}
 * @param perToken {@code log p(target[i] | prompt, target[..i])} for each target token
 */
public record ContinuationScore(double sum, float[] perToken) {

    public ContinuationScore {
        perToken = perToken.clone();
    }

    @Override
    public float[] perToken() {
        return perToken.clone();
    }

    /** Mean log-probability per target token. */
    public double mean() {
        return sum / perToken.length;
    }
}
