package io.emend.core.eval;

import io.emend.core.edit.EditRequest;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ROME's weighted n-gram entropy on token sequences built by hand, where every frequency is countable, so the values
 * are exact up to double rounding (1e-12); then on real generations.
 */
class FluencyTest {

    private static final double LOG2 = Math.log(2);

    private static double h(double... p) {
        double s = 0;
        for (double x : p) {
            s -= x * Math.log(x) / LOG2;
        }
        return s;
    }

    private static double weighted(double h2, double h3) {
        return (2.0 / 3 * h2 + 4.0 / 3 * h3) / 2;
    }

    @Test
    void weightedEntropyOfHandBuiltTokenSequences() {
        // a b a b a b: bigrams ab×3, ba×2; trigrams aba×2, bab×2
        assertEquals(weighted(h(0.6, 0.4), h(0.5, 0.5)),
                Fluency.weightedEntropy(List.of("a", "b", "a", "b", "a", "b")), 1e-12);
        // one token repeated: a single bigram and a single trigram, 0 bits
        assertEquals(0, Fluency.weightedEntropy(List.of("Paris", "Paris", "Paris", "Paris", "Paris")), 1e-12);
        // six distinct tokens: 5 equiprobable bigrams, 4 trigrams: log2 5 and 2 bits
        assertEquals(weighted(Math.log(5) / LOG2, 2),
                Fluency.weightedEntropy(List.of("one", "two", "three", "four", "five", "six")), 1e-12);
        // x y z x y z x: bigrams xy×2, yz×2, zx×2 (log2 3); trigrams xyz×2, yzx×2, zxy×1 → (2/5, 2/5, 1/5)
        assertEquals(weighted(Math.log(3) / LOG2, h(0.4, 0.4, 0.2)),
                Fluency.weightedEntropy(List.of("x", "y", "z", "x", "y", "z", "x")), 1e-12);
        // case matters, as in NLTK's tokens: A a A a has bigrams Aa×2, aA×1 and trigrams AaA, aAa
        assertEquals(weighted(h(2.0 / 3, 1.0 / 3), 1), Fluency.weightedEntropy(List.of("A", "a", "A", "a")), 1e-12);
        // too short for any trigram (or bigram): that order contributes 0
        assertEquals(weighted(0, 0), Fluency.weightedEntropy(List.of("alone")), 0);
        assertEquals(weighted(0, 0), Fluency.weightedEntropy(List.of("two", "words")), 0);
    }

    @Test
    void wordsSplitPunctuationOffAsNltkDoes() {
        assertEquals(List.of("Lily", "liked", "rocks", ".", "Rocks", "!", "She", "ate", "3", "of", "them", ","),
                Fluency.words("Lily liked rocks. Rocks! She ate 3 of them,\n"));
        assertEquals(List.of(), Fluency.words("  \n"));
    }

    @Test
    void promptsAreEachEditsPromptAndRephrasing() {
        EditRequest a = new EditRequest("{} liked to eat", "Lily", "rocks", Optional.empty(),
                Optional.of("{} wanted to eat"), Optional.empty(), Optional.empty());
        EditRequest b = new EditRequest("Tom was a", "Tom", "cat", Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
        assertEquals(List.of("Lily liked to eat", "Lily wanted to eat", "Tom was a"),
                Fluency.prompts(List.of(a, b), 10));
        assertEquals(List.of("Lily liked to eat", "Lily wanted to eat"), Fluency.prompts(List.of(a, b), 2));
    }

    @Test
    void scoresPromptAndSampledContinuationReproducibly() throws IOException {
        Path stories = Fixtures.model("stories260k");
        try (Transformer model = Transformer.open(stories, Optional.empty());
                Tokenizer tokenizer = Tokenizer.load(stories)) {
            List<String> prompts = List.of("Lily liked to eat", "Once upon a time");
            Fluency f = Fluency.of(model, tokenizer, prompts, ForwardOptions.defaults(), Fluency.TOKENS, 0);
            assertEquals(2, f.generations());
            // 100 tokens each unless the story ends (EOS) first; the model writes stories far longer than a prompt
            assertTrue(f.tokens() > 2 * 20, "tokens generated: " + f.tokens());
            // The same seed gives the same texts, so an unedited "after" equals "before" exactly.
            assertEquals(f, Fluency.of(model, tokenizer, prompts, ForwardOptions.defaults(), Fluency.TOKENS, 0));
            // Ordinary text of ~100 words has most n-grams distinct: a weighted entropy near log2 of the count
            // (~6.5 bits); a degenerate loop scores under 2. stories260k's own stories sit in between, above 4.
            assertTrue(f.entropy() > 4 && f.entropy() < 7.5, "entropy " + f.entropy());
        }
    }
}
