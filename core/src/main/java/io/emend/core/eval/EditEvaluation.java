package io.emend.core.eval;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditRequest;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.util.List;
import java.util.Optional;

/**
 * Everything measured about a batch of edits, before and after: the CounterFact scores, fluency of generations from
 * the edited prompts, and perplexity on held-out text.
 *
 * @param scores            CounterFact-style scores per edit and in summary
 * @param fluencyBefore     weighted n-gram entropy of generations from up to {@code fluencyPrompts} of the requests'
 *                          prompts and rephrasings ({@link Fluency})
 * @param fluencyAfter      the same with the edits
 * @param perplexityBefore  on the held-out text, when one was given
 * @param perplexityAfter   the same with the edits
 */
public record EditEvaluation(CounterFactScores scores, Fluency fluencyBefore, Fluency fluencyAfter,
                             Optional<PerplexityResult> perplexityBefore, Optional<PerplexityResult> perplexityAfter) {

    /** Relative perplexity change, {@code after / before − 1}, or NaN without held-out text. */
    public double perplexityChange() {
        if (perplexityBefore.isEmpty()) {
            return Double.NaN;
        }
        return perplexityAfter.orElseThrow().perplexity() / perplexityBefore.get().perplexity() - 1;
    }

    /**
     * @param heldOut        text for perplexity (scored with a window of min(256, context) and half of it as stride)
     * @param fluencyPrompts how many of the requests' prompts and rephrasings to generate from
     */
    public static EditEvaluation measure(Transformer model, Tokenizer tokenizer, List<EditRequest> requests,
                                         EditDelta delta, Optional<String> heldOut, int fluencyPrompts) {
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardOptions before = ForwardOptions.defaults();
            ForwardOptions after = delta.applyTo(before, scope);
            CounterFactScores scores = CounterFactScores.measure(model, tokenizer, requests, before, after);
            List<String> prompts = Fluency.prompts(requests, fluencyPrompts);
            Fluency f0 = Fluency.of(model, tokenizer, prompts, before, Fluency.TOKENS, 0);
            Fluency f1 = Fluency.of(model, tokenizer, prompts, after, Fluency.TOKENS, 0);
            Optional<PerplexityResult> p0 = Optional.empty();
            Optional<PerplexityResult> p1 = Optional.empty();
            if (heldOut.isPresent()) {
                int window = Math.min(256, model.config().maxPositions());
                p0 = Optional.of(Perplexity.of(model, tokenizer, heldOut.get(), window, window / 2, before));
                p1 = Optional.of(Perplexity.of(model, tokenizer, heldOut.get(), window, window / 2, after));
            }
            return new EditEvaluation(scores, f0, f1, p0, p1);
        }
    }
}
