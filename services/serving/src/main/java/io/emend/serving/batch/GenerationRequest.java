package io.emend.serving.batch;

import io.emend.core.generate.SamplingParams;
import io.emend.core.infer.Adapter;
import java.util.Set;

/**
 * One generation the decode loop runs: the prompt's tokens (BOS included), how to sample, the adapter its sequence
 * carries (null for the base model), and how many alternatives to report with each token's log-probability.
 *
 * @param logprobs  -1 for no log-probabilities; otherwise the chosen token's plus this many most likely ones (0 to 5)
 * @param endTokens tokens that end the generation besides the model's EOS (a chat template's end of turn)
 */
public record GenerationRequest(int[] prompt, SamplingParams sampling, Adapter adapter, int logprobs,
        Set<Integer> endTokens) {

    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("a generation needs at least one prompt token");
        }
        prompt = prompt.clone();
        endTokens = Set.copyOf(endTokens);
    }
}
