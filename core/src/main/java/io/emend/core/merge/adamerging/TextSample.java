package io.emend.core.merge.adamerging;

import io.emend.core.eval.Perplexity;
import io.emend.core.graph.TokenBatch;
import io.emend.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The unlabeled text AdaMerging adapts on, as batches of token sequences: the text is split into documents as
 * {@link Perplexity#documents} does, each encoded with the BOS and cut into consecutive pieces of at most
 * {@code sequenceLength} tokens; pieces of fewer than two tokens are dropped and at most {@code sequences} are kept,
 * in text order. Batches are right-padded.
 *
 * @param batches the sequences, {@code batchSize} per batch (the last may hold fewer)
 */
public record TextSample(List<TokenBatch> batches) {

    public TextSample {
        batches = List.copyOf(batches);
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("the text has no sequence of two or more tokens");
        }
    }

    /** Real (unpadded) token positions over all batches. */
    public long positions() {
        long n = 0;
        for (TokenBatch b : batches) {
            for (int r = 0; r < b.batchSize(); r++) {
                for (int t = 0; t < b.length(); t++) {
                    n += b.real(r, t) ? 1 : 0;
                }
            }
        }
        return n;
    }

    public static TextSample of(String text, Tokenizer tokenizer, int sequenceLength, int batchSize, int sequences) {
        return new TextSample(batches(pieces(text, tokenizer, sequenceLength, sequences), batchSize));
    }

    /**
     * The sample cut in two: the sequences the search adapts on and, when {@code heldOutFraction > 0}, every
     * ⌈1/fraction⌉-th sequence kept apart to watch for early stopping. Taking every n-th rather than the tail keeps
     * both parts drawn from the whole text, so a text that mixes domains in order gives each part every domain.
     *
     * @param heldOut empty when the fraction is 0
     */
    public record Split(TextSample adapt, Optional<TextSample> heldOut) {
    }

    /**
     * @throws IllegalArgumentException when the text has too few sequences to give each part one
     */
    public static Split split(String text, Tokenizer tokenizer, int sequenceLength, int batchSize, int sequences,
                              double heldOutFraction) {
        List<int[]> pieces = pieces(text, tokenizer, sequenceLength, sequences);
        if (heldOutFraction <= 0) {
            return new Split(new TextSample(batches(pieces, batchSize)), Optional.empty());
        }
        int every = (int) Math.ceil(1 / heldOutFraction);
        List<int[]> adapt = new ArrayList<>();
        List<int[]> held = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            (i % every == every - 1 ? held : adapt).add(pieces.get(i));
        }
        if (adapt.isEmpty() || held.isEmpty()) {
            throw new IllegalArgumentException("the text gives " + pieces.size() + " sequences of two or more tokens,"
                    + " too few to hold " + heldOutFraction + " of them out (lower held_out, or give more text)");
        }
        return new Split(new TextSample(batches(adapt, batchSize)),
                Optional.of(new TextSample(batches(held, batchSize))));
    }

    private static List<int[]> pieces(String text, Tokenizer tokenizer, int sequenceLength, int sequences) {
        List<int[]> pieces = new ArrayList<>();
        for (String doc : Perplexity.documents(text)) {
            int[] ids = tokenizer.encode(doc, true);
            for (int from = 0; from < ids.length && pieces.size() < sequences; from += sequenceLength) {
                int to = Math.min(ids.length, from + sequenceLength);
                if (to - from >= 2) {
                    pieces.add(Arrays.copyOfRange(ids, from, to));
                }
            }
            if (pieces.size() == sequences) {
                break;
            }
        }
        return pieces;
    }

    private static List<TokenBatch> batches(List<int[]> pieces, int batchSize) {
        List<TokenBatch> batches = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i += batchSize) {
            batches.add(TokenBatch.padded(pieces.subList(i, Math.min(pieces.size(), i + batchSize)),
                    TokenBatch.Padding.RIGHT, 0));
        }
        return batches;
    }
}
