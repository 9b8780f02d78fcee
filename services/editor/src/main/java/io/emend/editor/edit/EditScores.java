package io.emend.editor.edit;

/**
 * What an edit job measured on its new edits, comparing the parent version with the result. Fractions in [0, 1]; NaN
 * where no request carried what a score needs (a ground truth, a rephrasing, a neighbour) or no held-out text was
 * scored.
 *
 * @param edits                  new edits measured
 * @param efficacyBefore         share whose new target already beat the old one on the parent
 * @param efficacy               share whose new target beats the old one on the result
 * @param rewriteAccuracy        mean share of the target's tokens that are the result's greedy choice
 * @param paraphraseBefore       efficacy on the rephrased prompts, on the parent
 * @param paraphrase             the same on the result
 * @param neighborhoodBefore     share of unrelated prompts preferring their own answer, on the parent
 * @param neighborhood           the same on the result
 * @param perplexityBefore       held-out perplexity of the parent
 * @param perplexity             held-out perplexity of the result
 * @param perplexityChange       {@code perplexity / perplexityBefore − 1}
 * @param fluencyBefore          n-gram entropy of the parent's generations from the prompts
 * @param fluency                the same for the result
 */
public record EditScores(int edits, double efficacyBefore, double efficacy, double rewriteAccuracy,
                         double paraphraseBefore, double paraphrase, double neighborhoodBefore, double neighborhood,
                         double perplexityBefore, double perplexity, double perplexityChange, double fluencyBefore,
                         double fluency) {
}
