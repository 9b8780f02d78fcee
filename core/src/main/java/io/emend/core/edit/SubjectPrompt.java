package io.emend.core.edit;

import io.emend.core.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * A prompt as token ids (with the model's BOS) and the index of the subject's last token, where ROME and MEMIT read
 * the key and write the value. The index is found as ROME does: the length of the tokenized text up to the end of
 * the subject, minus one; subword merges across that boundary are rare and only shift the index within the subject.
 *
 * @param ids         the prompt's tokens, BOS first when the tokenizer adds one
 * @param subjectLast index into {@code ids} of the subject's last token
 */
public record SubjectPrompt(int[] ids, int subjectLast) {

    public SubjectPrompt {
        if (subjectLast < 0 || subjectLast >= ids.length) {
            throw new IllegalArgumentException("subject index " + subjectLast + " is outside the prompt's "
                    + ids.length + " tokens");
        }
        ids = ids.clone();
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    public int length() {
        return ids.length;
    }

    /**
     * Tokenizes {@code prefix + prompt} and locates the first occurrence of {@code subject} inside {@code prompt}.
     *
     * @throws IllegalArgumentException when the subject does not occur in the prompt
     */
    public static SubjectPrompt of(Tokenizer tokenizer, String prefix, String prompt, String subject) {
        int at = prompt.indexOf(subject);
        if (at < 0) {
            throw new IllegalArgumentException("\"" + subject + "\" does not occur in \"" + prompt + "\"");
        }
        String text = prefix + prompt;
        int end = prefix.length() + at + subject.length();
        int[] ids = tokenizer.encode(text, true);
        int upToSubject = tokenizer.encode(text.substring(0, end), true).length;
        return new SubjectPrompt(ids, Math.min(ids.length, upToSubject) - 1);
    }

    /**
     * The tokens of {@code target} as a continuation of {@code text}: the tail of {@code encode(text + " " + target)}
     * after {@code encode(text)}, so word-initial pieces (SentencePiece's ▁, GPT-2's Ġ) come out as the model would
     * produce them; if tokenization merges across the boundary, the target is encoded on its own instead.
     *
     * @throws IllegalArgumentException when the target yields no tokens
     */
    public static int[] continuation(Tokenizer tokenizer, String text, String target) {
        int[] head = tokenizer.encode(text, true);
        int[] joined = tokenizer.encode(text + " " + target.strip(), true);
        int[] tail;
        if (joined.length > head.length && Arrays.equals(joined, 0, head.length, head, 0, head.length)) {
            tail = Arrays.copyOfRange(joined, head.length, joined.length);
        } else {
            tail = tokenizer.encode(" " + target.strip(), false);
        }
        if (tail.length == 0) {
            throw new IllegalArgumentException("target \"" + target + "\" has no tokens");
        }
        return tail;
    }
}
