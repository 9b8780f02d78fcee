package io.emend.core.eval;

import io.emend.core.generate.Generator;
import io.emend.core.generate.SamplingParams;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.graph.Transformer;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Fluency as ROME measures it: the n-gram entropy of the model's own generations. A model broken by an edit repeats
 * itself ("Paris Paris Paris"), which collapses the entropy. Per generation, the words (lower-cased, split on anything
 * that is not a letter or digit) give bigram and trigram frequency distributions; the score is
 * {@code (2/3 · H₂ + 4/3 · H₃) / 2} in bits, averaged over generations.
 *
 * @param entropy     mean weighted n-gram entropy, bits
 * @param generations generations scored
 */
public record Fluency(double entropy, int generations) {

    /** Greedy continuations of {@code maxTokens} tokens from each prompt, under {@code options}. */
    public static Fluency of(Transformer model, Tokenizer tokenizer, List<String> prompts, ForwardOptions options,
                             int maxTokens) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("fluency needs at least one prompt");
        }
        Generator generator = new Generator(model, tokenizer);
        double sum = 0;
        for (String prompt : prompts) {
            String text = generator.generate(tokenizer.encode(prompt, true), SamplingParams.greedy(maxTokens), options,
                    (id, piece) -> { }).text();
            sum += weightedEntropy(text);
        }
        return new Fluency(sum / prompts.size(), prompts.size());
    }

    /** {@code (2/3 · H₂ + 4/3 · H₃) / 2} of a text's words, bits; 0 for a text with fewer than two words. */
    public static double weightedEntropy(String text) {
        String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+");
        List<String> w = java.util.Arrays.stream(words).filter(s -> !s.isEmpty()).toList();
        return (2.0 / 3 * entropy(w, 2) + 4.0 / 3 * entropy(w, 3)) / 2;
    }

    /** Shannon entropy (bits) of the n-gram frequency distribution of a word sequence. */
    static double entropy(List<String> words, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        int total = 0;
        for (int i = 0; i + n <= words.size(); i++) {
            counts.merge(words.subList(i, i + n), 1, Integer::sum);
            total++;
        }
        double h = 0;
        for (int c : counts.values()) {
            double p = (double) c / total;
            h -= p * Math.log(p) / Math.log(2);
        }
        return h;
    }
}
