package io.emend.core.edit;

import io.emend.core.format.Fixtures;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subject's last-token index is where ROME and MEMIT read the key and write the value; an index one token off
 * edits another position and silently does nothing useful. Checked against the tokenizer's own character offsets of
 * the whole prompt, with the SentencePiece tokenizer of {@code stories260k} (a leading-space piece "▁Kai" inside the
 * prompt, a dummy-prefix piece at its start, names split into many pieces) and the byte-level BPE of GPT-2.
 */
class SubjectPromptTest {

    /** Subjects of several shapes: invented multi-piece names, known words, a CounterFact subject, a one-letter one. */
    private static final List<String> SUBJECTS = List.of("Drouk Zaishtrem", "Lily Stone", "Bo Kai", "David Robinson",
            "the Eiffel Tower", "X");

    /** Templates with the subject first, in the middle, and after a comma. */
    private static final List<String> TEMPLATES = List.of("{} lives in the city of",
            "People in town say that {} works as a", "Yesterday, {} is a");

    /** No prefix (the subject may follow BOS directly), a ROME-style context prefix, one ending without a space. */
    private static final List<String> PREFIXES = List.of("", "The dog ran to the park. ", "Because it rained.");

    @Test
    void indexIsTheLastTokenOfTheSubjectInContext() throws IOException {
        for (String model : List.of("stories260k", "tiny-gpt2")) {
            try (Tokenizer tokenizer = Tokenizer.load(Fixtures.model(model))) {
                for (String subject : SUBJECTS) {
                    for (String template : TEMPLATES) {
                        for (String prefix : PREFIXES) {
                            check(tokenizer, model, prefix, template.replace("{}", subject), subject);
                        }
                    }
                }
            }
        }
    }

    private static void check(Tokenizer tokenizer, String model, String prefix, String prompt, String subject) {
        SubjectPrompt p = SubjectPrompt.of(tokenizer, prefix, prompt, subject);
        String text = prefix + prompt;
        int subjectEnd = prefix.length() + prompt.indexOf(subject) + subject.length();
        Tokenizer.Encoding e = tokenizer.encodeWithOffsets(text);
        int bos = p.length() - e.ids().length;
        String where = model + " \"" + text + "\" subject \"" + subject + "\"";
        assertTrue(bos == 0 || bos == 1, where + ": BOS offset " + bos);
        int[] ids = p.ids();
        for (int i = 0; i < e.ids().length; i++) {
            assertEquals(e.ids()[i], ids[i + bos], where + ": the prompt's tokens are the text's");
        }
        // The token at the index must cover the subject's last character, and the one after it must begin at or past
        // the subject's end: exactly one token qualifies, so an index off by one either way fails here.
        int at = p.subjectLast() - bos;
        assertTrue(at >= 0, where + ": index " + p.subjectLast() + " points at BOS");
        assertTrue(e.starts()[at] < subjectEnd && e.ends()[at] >= subjectEnd, where + ": token " + at + " spans "
                + e.starts()[at] + ".." + e.ends()[at] + ", the subject ends at " + subjectEnd);
        if (at + 1 < e.ids().length) {
            assertTrue(e.starts()[at + 1] >= subjectEnd, where
                    + ": the next token " + (at + 1) + " spans " + e.starts()[at + 1] + ".." + e.ends()[at + 1]);
        }
        String subjectAlone = tokenizer.decode(java.util.Arrays.copyOfRange(ids, bos, p.subjectLast() + 1));
        assertTrue(subjectAlone.strip().endsWith(subject), where + ": tokens up to the index decode to \""
                + subjectAlone + "\"");
    }
}
