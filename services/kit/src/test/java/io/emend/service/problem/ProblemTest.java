package io.emend.service.problem;

import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProblemTest {

    @Test
    void titlesAreTheStatusReasonPhrases() {
        assertEquals("Not Found", Problem.of(404, "x", "d", "/i", null, List.of()).title());
        // JAX-RS's table lacks 422; RFC 9110 names it, as the registry's problems do
        assertEquals("Unprocessable Content", Problem.of(422, "invalid-input", "d", "/i", null, List.of()).title());
        assertEquals("HTTP 499", Problem.of(499, "x", "d", "/i", null, List.of()).title());
        assertEquals("urn:emend:problem:invalid-input",
                Problem.of(422, "invalid-input", "d", "/i", null, List.of()).type());
    }
}
