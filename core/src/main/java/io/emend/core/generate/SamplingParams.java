package io.emend.core.generate;

import java.util.List;

/**
 * How to pick each next token and when to stop.
 *
 * @param temperature 0 for greedy (argmax); otherwise logits are divided by it before the softmax
 * @param topK        keep only the k most likely tokens; 0 keeps all
 * @param topP        keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all
 * @param seed        seeds the sampler, so the same request gives the same tokens
 * @param maxTokens   most new tokens to produce
 * @param stop        strings that end the generation when they appear in the text; they are not part of the result
 */
public record SamplingParams(double temperature, int topK, double topP, long seed, int maxTokens, List<String> stop) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 disables it), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("max_tokens must be >= 1, got " + maxTokens);
        }
        stop = List.copyOf(stop);
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop sequences must not be empty");
            }
        }
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(0, 0, 1, 0, maxTokens, List.of());
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withStop(List<String> sequences) {
        return new SamplingParams(temperature, topK, topP, seed, maxTokens, sequences);
    }
}
