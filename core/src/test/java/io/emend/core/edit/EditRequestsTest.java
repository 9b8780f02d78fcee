package io.emend.core.edit;

import io.emend.core.format.Fixtures;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EditRequestsTest {

    @Test
    void readsTheCounterFactFixture() throws IOException {
        List<EditRequest> requests = EditRequests.read(Fixtures.root().resolve("data/counterfact-1k.json"));
        assertEquals(1000, requests.size());
        EditRequest first = requests.getFirst();
        assertEquals("David Robinson", first.subject());
        assertEquals("baseball", first.targetNew());
        assertEquals(Optional.of("basketball"), first.groundTruth());
        assertEquals(Optional.of("Shaquille O'Neal plays"), first.localityPrompt());
    }

    @Test
    void fillsThePlaceholderAndAcceptsOneElementLists() {
        EditRequest r = EditRequests.parse("""
                [{"prompt": "{} plays the sport", "subject": "Ann", "target_new": ["chess"], "case_id": 4}]""")
                .getFirst();
        assertEquals("Ann plays the sport", r.filledPrompt());
        assertEquals("chess", r.targetNew());
    }

    @Test
    void badRequestsAreRejectedNamingTheField() {
        assertField("subject", "requests[0].subject: \"Bob\" does not occur",
                """
                [{"prompt": "Ann plays", "subject": "Bob", "target_new": "chess"}]""");
        assertField("target_new", "requests[1].target_new: is empty",
                """
                [{"prompt": "Ann plays", "subject": "Ann", "target_new": "chess"},
                 {"prompt": "Ann plays", "subject": "Ann", "target_new": "  "}]""");
        assertField("target_new", "requests[0].target_new: is missing",
                """
                {"prompt": "Ann plays", "subject": "Ann"}""");
        assertField("prompt", "requests[0].prompt: must be a string",
                """
                [{"prompt": 3, "subject": "Ann", "target_new": "chess"}]""");
        assertField("locality_ground_truth", "come together",
                """
                [{"prompt": "Ann plays", "subject": "Ann", "target_new": "chess", "locality_prompt": "Bo plays"}]""");
        assertField("requests", "not valid JSON", "[{\"prompt\": ");
        assertField("requests", "no edit requests", "[]");
    }

    private static void assertField(String field, String message, String json) {
        InvalidEditException e = assertThrows(InvalidEditException.class, () -> EditRequests.parse(json));
        assertEquals(field, e.field());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void preparationRejectsTooManyEditsAndPromptsLongerThanTheContext() throws IOException {
        try (Transformer model = Transformer.open(Fixtures.model("tiny-gpt2"), Optional.empty());
             Tokenizer tokenizer = Tokenizer.load(Fixtures.model("tiny-gpt2"))) {
            EditRequest ok = EditRequest.of("Ann plays", "Ann", "chess");
            InvalidEditException many = assertThrows(InvalidEditException.class,
                    () -> PreparedEdit.prepare(List.of(ok, ok, ok), tokenizer, model, List.of(), 2));
            assertTrue(many.getMessage().contains("too many edits: 3 in one call, at most 2"), many.getMessage());

            // tiny-gpt2 has a 128-token context and a byte tokenizer: 150 characters are 150 tokens.
            EditRequest longer = EditRequest.of("Ann " + "x".repeat(150), "Ann", "chess");
            InvalidEditException tooLong = assertThrows(InvalidEditException.class,
                    () -> PreparedEdit.prepare(List.of(ok, longer), tokenizer, model, List.of(), 10));
            assertEquals(1, tooLong.index());
            assertEquals("prompt", tooLong.field());
            assertTrue(tooLong.getMessage().contains("longer than the model's context of 128"), tooLong.getMessage());

            PreparedEdit p = PreparedEdit.prepare(List.of(ok), tokenizer, model, List.of("It rained. "), 10).getFirst();
            assertEquals(2, p.rewriting().size());
            // Byte tokens: "Ann" ends at index 3 after the BOS; with the prefix, 11 bytes later.
            assertEquals(3, p.rewriting().get(0).subjectLast());
            assertEquals(3 + "It rained. ".length(), p.rewriting().get(1).subjectLast());
            assertEquals(" chess".length(), p.target().length);
        }
    }

    @Test
    void methodNamesAreParsedWithTheValidOnesListed() {
        assertEquals(EditMethod.ALPHAEDIT, EditMethod.parse("AlphaEdit"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EditMethod.parse("mend"));
        assertTrue(e.getMessage().contains("rome, memit, alphaedit"), e.getMessage());
    }
}
