package io.emend.editor.edit;

import io.emend.core.edit.EditMethod;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EditSubmissionTest {

    private static final String LILY = "{\"prompt\": \"Lily liked to eat\", \"subject\": \"Lily\", \"target_new\": \"rocks\"}";

    @Test
    void readsEveryPart() {
        EditSubmission s = EditSubmission.parse("""
                {"model": "demo@production", "method": "MEMIT",
                 "requests": [{"prompt": "{} liked to eat", "subject": "Lily", "target_new": ["rocks"],
                               "ground_truth": "cake", "case_id": 7}],
                 "options": {"layers": [2, 1], "seed": 3},
                 "gate": {"minEfficacy": 1, "maxPerplexityIncrease": 0.05},
                 "output": {"alias": "candidate"}}
                """, 10);
        assertEquals("demo@production", s.model());
        assertEquals(EditMethod.MEMIT, s.method());
        assertEquals("Lily liked to eat", s.requests().getFirst().filledPrompt());
        assertEquals("rocks", s.requests().getFirst().targetNew());
        assertEquals(List.of(1, 2), s.options().layers().orElseThrow());
        assertEquals(3, s.options().seed());
        assertEquals(OptionalDouble.of(1), s.gate().minEfficacy());
        assertTrue(s.output().model().isEmpty());
        assertEquals("candidate", s.output().alias().orElseThrow());
    }

    @Test
    void eachBadInputNamesItsField() {
        assertField("body", "{\"model\": ");
        assertField("model", "{\"method\": \"rome\", \"requests\": [" + LILY + "]}");
        assertField("method", "{\"model\": \"m\", \"method\": \"lora\", \"requests\": [" + LILY + "]}");
        assertField("requests", "{\"model\": \"m\", \"method\": \"rome\"}");
        assertField("requests[0].subject", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": ["
                + "{\"prompt\": \"Tom liked to eat\", \"subject\": \"Lily\", \"target_new\": \"rocks\"}]}");
        assertField("requests[0].target_new", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": ["
                + "{\"prompt\": \"Lily liked to eat\", \"subject\": \"Lily\", \"target_new\": \"  \"}]}");
        assertField("requests", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": [" + LILY + "," + LILY
                + "," + LILY + "]}");
        assertField("surprise", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": [" + LILY
                + "], \"surprise\": 1}");
        assertField("options.layers", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": [" + LILY
                + "], \"options\": {\"layers\": [-1]}}");
        assertField("gate.minEfficacy", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": [" + LILY
                + "], \"gate\": {\"minEfficacy\": 1.5}}");
        assertField("output.model", "{\"model\": \"m\", \"method\": \"rome\", \"requests\": [" + LILY
                + "], \"output\": {\"model\": \"Not A Name\"}}");
    }

    @Test
    void tooManyEditsSaysTheLimit() {
        InvalidSubmission e = assertThrows(InvalidSubmission.class, () -> EditSubmission.parse(
                "{\"model\": \"m\", \"method\": \"rome\", \"requests\": [" + LILY + "," + LILY + "," + LILY + "]}", 2));
        assertTrue(e.getMessage().contains("too many edits: 3") && e.getMessage().contains("at most 2"),
                e.getMessage());
    }

    @Test
    void gateFailsBelowItsThresholdsAndOnUnmeasuredScores() {
        EditGate gate = new EditGate(OptionalDouble.of(0.9), OptionalDouble.of(0.5), OptionalDouble.empty(),
                OptionalDouble.of(0.02));
        EditScores passing = scores(1.0, 0.5, 0.01);
        assertEquals(List.of(), gate.failures(passing));
        List<String> failing = gate.failures(scores(0.8, Double.NaN, 0.03));
        assertEquals(3, failing.size(), failing.toString());
        assertTrue(failing.get(0).contains("efficacy 0.8000 is below the gate's 0.9000"), failing.toString());
        assertTrue(failing.get(1).contains("paraphrase was not measured"), failing.toString());
        assertTrue(failing.get(2).contains("perplexity change +0.0300"), failing.toString());
        assertEquals(List.of(), EditGate.open().failures(scores(0, 0, 5)));
    }

    private static EditScores scores(double efficacy, double paraphrase, double perplexityChange) {
        return new EditScores(1, 0, efficacy, efficacy, 0, paraphrase, 1, 1, 10, 10 * (1 + perplexityChange),
                perplexityChange, 5, 5);
    }

    private static void assertField(String field, String body) {
        InvalidSubmission e = assertThrows(InvalidSubmission.class, () -> EditSubmission.parse(body, 2), body);
        assertEquals(field, e.field(), e.getMessage());
    }
}
