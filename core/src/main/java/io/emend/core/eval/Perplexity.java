package io.emend.core.eval;

import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Perplexity of a model on a text file, computed per document rather than over one concatenated stream:
 * <ol>
 *   <li>The text is split on blank lines ({@code "\n\n"}); empty pieces are dropped, nothing else is changed.</li>
 *   <li>Each document is encoded with the model's BOS in front. The BOS is context only: every later token is
 *       predicted once from all tokens before it in its document.</li>
 *   <li>A document longer than the window (default: the model's context) is scored with a sliding window: windows of
 *       {@code window} tokens start every {@code stride} tokens, and each window scores only the tokens no earlier
 *       window scored, so every token is predicted exactly once with at least {@code window - stride} tokens of
 *       context (the first window has the BOS; later windows start mid-document).</li>
 *   <li>Perplexity is {@code exp} of the mean negative log-likelihood over all predictions of all documents (token
 *       weighted, so long documents count in proportion to their length).</li>
 * </ol>
 * Windows are batched, sorted by length so right padding wastes little.
 */
public final class Perplexity {

    /** Upper bound on logits floats per batch ([batch, length, vocab]), to keep a batch's logits near 128 MiB. */
    static final long LOGITS_BUDGET = 32L * 1024 * 1024;
    /**
     * Tokens per batch when the logits allow more: measured on stories260k, batches of 1-4k tokens keep activations
     * in cache and run twice as fast as batches of 16-64k.
     */
    static final long TOKENS_PER_BATCH = 4096;

    private Perplexity() {
    }

    /** Documents of a text as step 1 defines them. */
    public static List<String> documents(String text) {
        List<String> docs = new ArrayList<>();
        for (String piece : text.split("\n\n", -1)) {
            if (!piece.isEmpty()) {
                docs.add(piece);
            }
        }
        return docs;
    }

    /** Perplexity of a text with the model's context as window and half of it as stride. */
    public static PerplexityResult of(Transformer model, Tokenizer tokenizer, String text) {
        int window = model.config().maxPositions();
        return of(model, tokenizer, text, window, Math.max(1, window / 2), ForwardOptions.defaults());
    }

    /**
     * @param options deltas to evaluate with (an adapter, an edit); its cache and logits scope are replaced
     * @throws IllegalArgumentException when the text has no document with a token to predict, or the window does not
     *                                  fit the model
     */
    public static PerplexityResult of(Transformer model, Tokenizer tokenizer, String text, int window, int stride,
                                      ForwardOptions options) {
        List<int[]> encoded = new ArrayList<>();
        for (String doc : documents(text)) {
            encoded.add(tokenizer.encode(doc, true));
        }
        return ofTokens(model, encoded, window, stride, options);
    }

    /** Perplexity of already-encoded documents (each with its BOS, when the model has one). */
    public static PerplexityResult ofTokens(Transformer model, List<int[]> documents, int window, int stride,
                                            ForwardOptions options) {
        if (window < 2 || window > model.config().maxPositions()) {
            throw new IllegalArgumentException("window must be in [2, " + model.config().maxPositions() + "], got "
                    + window);
        }
        if (stride < 1 || stride > window - 1) {
            throw new IllegalArgumentException("stride must be in [1, window - 1 = " + (window - 1) + "], got " + stride);
        }
        List<Chunk> chunks = new ArrayList<>();
        for (int[] doc : documents) {
            chunks.addAll(Chunk.split(doc, window, stride));
        }
        if (chunks.isEmpty()) {
            throw new IllegalArgumentException("the text has no document with a token to predict");
        }
        chunks.sort(Comparator.comparingInt(c -> c.tokens().length));
        long perBatchTokens = Math.max(window, Math.min(TOKENS_PER_BATCH, LOGITS_BUDGET / model.config().vocabSize()));
        double nll = 0;
        long predictions = 0;
        int from = 0;
        while (from < chunks.size()) {
            int to = from;
            int longest = 0;
            while (to < chunks.size()) {
                int len = chunks.get(to).tokens().length;
                if (to > from && (long) Math.max(longest, len) * (to - from + 1) > perBatchTokens) {
                    break;
                }
                longest = Math.max(longest, len);
                to++;
            }
            List<Chunk> batch = chunks.subList(from, to);
            float[][] logProbs = NextTokenLogProbs.of(model, batch.stream().map(Chunk::tokens).toList(), options);
            for (int i = 0; i < batch.size(); i++) {
                float[] lp = logProbs[i];
                for (int p = batch.get(i).firstScored() - 1; p < lp.length; p++) {
                    nll -= lp[p];
                    predictions++;
                }
            }
            from = to;
        }
        double mean = nll / predictions;
        return new PerplexityResult(mean, Math.exp(mean), predictions, documents.size());
    }

    /**
     * A window of a document and the index (within the window) of the first token it scores.
     *
     * @param tokens      the window's tokens
     * @param firstScored tokens[firstScored..] are predicted here; those before are context only
     */
    record Chunk(int[] tokens, int firstScored) {

        static List<Chunk> split(int[] doc, int window, int stride) {
            List<Chunk> out = new ArrayList<>();
            if (doc.length < 2) {
                return out;
            }
            int scoredUpTo = 1; // token 0 (the BOS) is never predicted
            for (int begin = 0; ; begin += stride) {
                int end = Math.min(begin + window, doc.length);
                out.add(new Chunk(java.util.Arrays.copyOfRange(doc, begin, end), scoredUpTo - begin));
                scoredUpTo = end;
                if (end == doc.length) {
                    return out;
                }
            }
        }
    }
}
