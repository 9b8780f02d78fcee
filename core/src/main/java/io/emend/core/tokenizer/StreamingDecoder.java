package io.emend.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns ids arriving one at a time into text pieces whose concatenation equals {@link Tokenizer#decode} of all ids.
 *
 * <p>A token may carry part of a character: a byte-fallback piece {@code <0xE2>} or a byte-level GPT-2 symbol holds
 * one byte of a multi-byte UTF-8 sequence, and the tokenizer's decoder renders an incomplete sequence as U+FFFD.
 * Likewise SentencePiece's "▁" becomes a space, and a Strip step drops the first leading space, so one token's text
 * depends on its neighbours. The decoder therefore re-decodes a short window: the ids since the last emitted
 * boundary ({@code prefix}) plus the new ones, and emits only what the window adds beyond the already-emitted
 * prefix text, and only once it does not end in an incomplete character. Each step decodes a window of a few
 * tokens, not the whole sequence.
 */
public final class StreamingDecoder {

    /** U+FFFD, which the tokenizer's decoders produce for bytes that do not (yet) form a character. */
    private static final char REPLACEMENT = '\uFFFD';
    /**
     * Tokens held back at most: UTF-8 needs at most 4 bytes per character, so a longer run of held tokens means the
     * replacement character is really in the output (an invalid byte sequence), and it is emitted as such.
     */
    static final int MAX_PENDING = 4;

    private final Tokenizer tokenizer;
    private final List<Integer> ids = new ArrayList<>();
    private int prefixStart;
    private int readStart;

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one id; returns the text that is now complete (possibly empty, never a partial character). */
    public String accept(int id) {
        ids.add(id);
        String prefix = decode(prefixStart, readStart);
        String window = decode(prefixStart, ids.size());
        boolean incomplete = !window.isEmpty() && window.charAt(window.length() - 1) == REPLACEMENT;
        if (window.length() > prefix.length() && window.startsWith(prefix)
                && (!incomplete || ids.size() - readStart > MAX_PENDING)) {
            prefixStart = readStart;
            readStart = ids.size();
            return window.substring(prefix.length());
        }
        return "";
    }

    /** Ends the sequence: whatever is still held back, incomplete bytes rendered as U+FFFD. */
    public String finish() {
        String prefix = decode(prefixStart, readStart);
        String window = decode(prefixStart, ids.size());
        prefixStart = ids.size();
        readStart = ids.size();
        return window.length() > prefix.length() ? window.substring(prefix.length()) : "";
    }

    private String decode(int from, int to) {
        int[] slice = new int[to - from];
        for (int i = from; i < to; i++) {
            slice[i - from] = ids.get(i);
        }
        return tokenizer.decode(slice);
    }
}
