package io.emend.core.eval;

/**
 * Perplexity of a model on a text.
 *
 * @param meanNll     token-weighted mean negative log-likelihood, nats per predicted token
 * @param perplexity  {@code exp(meanNll)}
 * @param predictions tokens predicted (each document's BOS is context, not a prediction)
 * @param documents   documents scored
 */
public record PerplexityResult(double meanNll, double perplexity, long predictions, int documents) {
}
