package io.emend.core.eval;

import io.emend.core.edit.EditRequest;
import io.emend.core.generate.Generator;
import io.emend.core.generate.SamplingParams;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fluency as ROME defines it (Meng et al. 2022, "generation entropy"): the model continues each prompt, and the text
 * (prompt and continuation) is scored by its weighted bigram and trigram entropy,
 * {@code (2/3 · H₂ + 4/3 · H₃) / 2} in bits, where {@code H_n} is the Shannon entropy of the text's n-gram frequency
 * distribution over word tokens; the result is the arithmetic mean over texts. A model broken by an edit repeats
 * itself ("Paris Paris Paris"), which collapses the entropy.
 *
 * <p>As in ROME, generation samples from the five most likely tokens (temperature 1) for {@link #TOKENS} tokens;
 * the seed is fixed per prompt, so a before/after pair differs only through the edit. Word tokens follow NLTK's
 * {@code word_tokenize} in its main rule: runs of letters and digits are words, and every other visible character is
 * a token of its own (NLTK also splits contractions, "don't" into "do" "n't", which this does not).
 *
 * @param entropy     mean weighted n-gram entropy, bits
 * @param generations texts scored
 * @param tokens      model tokens generated in all
 */
public record Fluency(double entropy, int generations, int tokens) {

    /** New tokens generated per prompt (ROME generates up to 100 tokens of text). */
    public static final int TOKENS = 100;
    /** Sampling keeps the k most likely tokens, as ROME's {@code generate_fast}. */
    public static final int TOP_K = 5;

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+|[^\\p{L}\\p{N}\\s]");

    /** Each request's prompt and, where it has one, its rephrasing, in order, at most {@code limit} of them. */
    public static List<String> prompts(List<EditRequest> requests, int limit) {
        List<String> prompts = new ArrayList<>();
        for (EditRequest r : requests) {
            prompts.add(r.filledPrompt());
            r.filledRephrase().ifPresent(prompts::add);
        }
        return prompts.subList(0, Math.min(prompts.size(), Math.max(1, limit)));
    }

    /**
     * Continuations of {@code maxTokens} tokens from each prompt, under {@code options}, sampled with
     * {@code seed + i} for prompt i.
     */
    public static Fluency of(Transformer model, Tokenizer tokenizer, List<String> prompts, ForwardOptions options,
                             int maxTokens, long seed) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("fluency needs at least one prompt");
        }
        Generator generator = new Generator(model, tokenizer);
        double sum = 0;
        int generated = 0;
        for (int i = 0; i < prompts.size(); i++) {
            String prompt = prompts.get(i);
            SamplingParams sampling = new SamplingParams(1.0, TOP_K, 1.0, seed + i, maxTokens, List.of());
            var generation = generator.generate(tokenizer.encode(prompt, true), sampling, options, (id, piece) -> { });
            generated += generation.tokens().length;
            sum += weightedEntropy(words(prompt + generation.text()));
        }
        return new Fluency(sum / prompts.size(), prompts.size(), generated);
    }

    /** A text's word tokens (see the class comment). */
    public static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            words.add(m.group());
        }
        return words;
    }

    /** {@code (2/3 · H₂ + 4/3 · H₃) / 2} of a token sequence, bits; an order with no n-gram contributes 0. */
    public static double weightedEntropy(List<String> tokens) {
        return (2.0 / 3 * entropy(tokens, 2) + 4.0 / 3 * entropy(tokens, 3)) / 2;
    }

    /** Shannon entropy (bits) of the n-gram frequency distribution of a token sequence. */
    static double entropy(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        int total = 0;
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
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
