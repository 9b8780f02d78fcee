package io.emend.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generation on stories260k, the one real pretrained fixture, against its independent greedy reference. */
class GeneratorTest {

    private static Transformer model;
    private static Tokenizer tokenizer;
    private static Generator generator;

    @BeforeAll
    static void load() throws IOException {
        model = Transformer.open(Fixtures.model("stories260k"), Optional.empty());
        tokenizer = Tokenizer.load(Fixtures.model("stories260k"));
        generator = new Generator(model, tokenizer);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    @Test
    void greedyGenerationEqualsTheReferenceTokenForToken() throws IOException {
        JsonNode cases = new ObjectMapper().readTree(Fixtures.model("stories260k").resolve("golden_generate.json")
                .toFile()).get("cases");
        assertEquals(2, cases.size());
        for (JsonNode c : cases) {
            int[] expected = ints(c.get("ids"));
            StringBuilder streamed = new StringBuilder();
            List<Integer> seen = new ArrayList<>();
            Generation g = generator.generate(ints(c.get("prompt_ids")), SamplingParams.greedy(expected.length),
                    ForwardOptions.defaults(), (id, text) -> {
                        if (id >= 0) {
                            seen.add(id);
                        }
                        streamed.append(text);
                    });
            assertArrayEquals(expected, g.tokens());
            assertEquals(StopReason.MAX_TOKENS, g.reason());
            assertEquals(c.get("text").asText(), g.text(), "decoded continuation");
            assertEquals(g.text(), streamed.toString(), "the streamed pieces add up to the text");
            assertEquals(expected.length, seen.size(), "one callback per token");
        }
    }

    @Test
    void stopSequenceEndsTheTextBeforeIt() {
        Generation g = generator.generate("Once upon a time", new SamplingParams(0, 0, 1, 0, 64, List.of(". ")),
                TokenSink.IGNORE);
        assertEquals(StopReason.STOP_SEQUENCE, g.reason());
        assertEquals(", there was a little girl named Lily", g.text());
        assertTrue(g.tokens().length < 20);
    }

    @Test
    void samplingIsReproducibleBySeed() {
        SamplingParams p = new SamplingParams(1.0, 40, 0.95, 123, 24, List.of());
        Generation a = generator.generate("Once upon a time", p, TokenSink.IGNORE);
        Generation b = generator.generate("Once upon a time", p, TokenSink.IGNORE);
        Generation c = generator.generate("Once upon a time",
                new SamplingParams(1.0, 40, 0.95, 124, 24, List.of()), TokenSink.IGNORE);
        assertArrayEquals(a.tokens(), b.tokens());
        assertEquals(a.text(), b.text());
        assertNotEquals(a.text(), c.text());
        assertFalse(a.text().isBlank());
    }

    @Test
    void stopsAtTheContextAndRejectsBadPrompts() {
        int context = model.config().maxPositions();
        int[] longPrompt = new int[context - 2];
        java.util.Arrays.fill(longPrompt, 300);
        longPrompt[0] = 1;
        Generation g = generator.generate(longPrompt, SamplingParams.greedy(10), ForwardOptions.defaults(),
                TokenSink.IGNORE);
        assertEquals(StopReason.CONTEXT, g.reason());
        assertEquals(2, g.tokens().length);
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> generator.generate(
                new int[context + 1], SamplingParams.greedy(1), ForwardOptions.defaults(), TokenSink.IGNORE));
        assertTrue(tooLong.getMessage().contains("context is 512"), tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[0], SamplingParams.greedy(1),
                ForwardOptions.defaults(), TokenSink.IGNORE));
    }
}
