package io.emend.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Tokenizer stories;
    private static Tokenizer byteLevel;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        stories = Tokenizer.load(Fixtures.model("stories260k"));
        byteLevel = Tokenizer.load(Fixtures.model("tiny-llama"));
    }

    @AfterAll
    static void close() {
        stories.close();
        byteLevel.close();
    }

    private static int[] ints(JsonNode array) {
        return IntStream.range(0, array.size()).map(i -> array.get(i).intValue()).toArray();
    }

    private static JsonNode fixture(String file) throws IOException {
        return JSON.readTree(Files.readString(Fixtures.model("stories260k").resolve(file)));
    }

    /** llama2.c's own encoder produced these ids; every case must match exactly and decode back to the text. */
    @Test
    void storiesEncodesEveryLlama2cCase() throws IOException {
        JsonNode cases = fixture("tokenizer_cases.json");
        assertEquals(37, cases.size());
        for (JsonNode c : cases) {
            String text = c.get("text").textValue();
            int[] expected = ints(c.get("ids"));
            assertArrayEquals(expected, stories.encode(text, true), () -> "encode " + JSON.valueToTree(text));
            assertEquals(text, stories.decode(expected), "decode");
        }
    }

    /**
     * Where llama2.c and Hugging Face legitimately differ (special-token text in the input, a literal U+2581),
     * Emend follows Hugging Face: the tokenizer.json semantics every HF tool applies.
     */
    @Test
    void storiesEdgeCasesFollowHuggingFace() throws IOException {
        for (JsonNode c : fixture("tokenizer_edge_cases.json")) {
            String text = c.get("text").textValue();
            assertArrayEquals(ints(c.get("hf_ids")), stories.encode(text, true), text);
        }
    }

    @Test
    void bosIsPrependedOnlyWhenAsked() {
        assertArrayEquals(new int[]{1}, stories.encode("", true));
        assertArrayEquals(new int[0], stories.encode("", false));
        assertArrayEquals(new int[]{346, 306, 414, 263, 304, 341}, stories.encode("Hello world", false));
        assertEquals(1, stories.bosId());
        assertEquals(2, stories.eosId());
        assertEquals("Hello world", stories.decode(new int[]{1, 346, 306, 414, 263, 304, 341, 2}), "specials skipped");
    }

    @Test
    void goldenGenerationDecodesToItsText() throws IOException {
        for (JsonNode c : fixture("golden_generate.json").get("cases")) {
            int[] prompt = ints(c.get("prompt_ids"));
            int[] generated = ints(c.get("ids"));
            assertEquals(c.get("text").textValue(), stories.decode(generated));
            int[] all = IntStream.concat(IntStream.of(prompt), IntStream.of(generated)).toArray();
            assertEquals(c.get("full_text").textValue(), stories.decode(all));
        }
    }

    private static String streamed(Tokenizer t, int[] ids, List<String> chunks) {
        StreamingDecoder d = t.streamingDecoder();
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String piece = d.accept(id);
            chunks.add(piece);
            out.append(piece);
        }
        String rest = d.finish();
        chunks.add(rest);
        return out.append(rest).toString();
    }

    /** Emoji and CJK need several byte-fallback tokens per character: no chunk may hold half a character. */
    @Test
    void streamingNeverSplitsACharacterAndEqualsTheFullDecode() throws IOException {
        String sentence = "Lily saw 😀🎉 and 日本語 — “wow” ❤️!";
        int[] ids = stories.encode(sentence, true);
        assertTrue(ids.length > sentence.codePointCount(0, sentence.length()), "byte fallback in use");
        List<String> chunks = new ArrayList<>();
        assertEquals(stories.decode(ids), streamed(stories, ids, chunks));
        assertEquals(sentence, String.join("", chunks));
        for (String chunk : chunks) {
            assertFalse(chunk.contains("\uFFFD"), "chunk " + chunk);
            assertFalse(!chunk.isEmpty() && Character.isHighSurrogate(chunk.charAt(chunk.length() - 1)), chunk);
        }
        assertTrue(chunks.stream().filter(c -> !c.isEmpty()).count() > 5, "text arrives as it completes");

        for (JsonNode c : fixture("tokenizer_cases.json")) {
            int[] caseIds = ints(c.get("ids"));
            List<String> caseChunks = new ArrayList<>();
            assertEquals(stories.decode(caseIds), streamed(stories, caseIds, caseChunks), c.get("text").textValue());
            caseChunks.forEach(ch -> assertFalse(ch.contains("\uFFFD"), ch));
        }
    }

    @Test
    void streamingStartsEmittingBeforeTheEnd() {
        StreamingDecoder d = stories.streamingDecoder();
        assertEquals("", d.accept(1), "BOS is skipped");
        assertEquals("Hello", d.accept(346) + d.accept(306) + d.accept(414));
        assertEquals(" world", d.accept(263) + d.accept(304) + d.accept(341));
    }

    @Test
    void invalidBytesAreEventuallyEmittedAsReplacement() {
        int lone = stories.vocabulary().id("<0xE2>").orElseThrow();
        int[] ids = {lone, lone, lone, lone, lone, lone};
        List<String> chunks = new ArrayList<>();
        String out = streamed(stories, ids, chunks);
        assertEquals(stories.decode(ids), out);
        assertTrue(out.contains("\uFFFD"));
    }

    /** tiny-llama's tokenizer is the bare GPT-2 byte alphabet: one token per UTF-8 byte, no merges. */
    @Test
    void byteLevelTokenizerRoundTripsAnyText() {
        String text = "héllo wörld 😀 日本 \t\n end";
        int[] ids = byteLevel.encode(text, false);
        assertEquals(text.getBytes(StandardCharsets.UTF_8).length, ids.length);
        assertEquals(text, byteLevel.decode(ids));
        List<String> chunks = new ArrayList<>();
        assertEquals(text, streamed(byteLevel, ids, chunks));
        chunks.forEach(ch -> assertFalse(ch.contains("\uFFFD"), ch));
        assertEquals(1, byteLevel.bosId(), "from config.json");
        assertEquals(1, byteLevel.encode("a", true)[0]);
        assertEquals(256, byteLevel.vocabulary().size());
        assertTrue(byteLevel.vocabulary().merges().isEmpty());
    }

    @Test
    void vocabularyOfStories() {
        Vocabulary v = stories.vocabulary();
        assertEquals(512, v.size());
        assertEquals(165, v.merges().size());
        assertEquals("▁ t", v.merges().getFirst());
        assertTrue(v.byteFallback());
        assertEquals(0, v.unkId());
        assertEquals(java.util.Set.of(0, 1, 2), v.specialIds());
        assertEquals("<0x41>", v.pieces().get(3 + 0x41));
    }

    @Test
    void badInput() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> stories.decode(new int[]{512}));
        assertThrows(NoSuchFileException.class, () -> Tokenizer.load(tmp));
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        assertTrue(assertThrows(io.emend.core.format.MalformedFileException.class, () -> Tokenizer.load(tmp))
                .detail().contains("model.type 'Unigram' is not supported"));
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": ");
        assertTrue(assertThrows(io.emend.core.format.MalformedFileException.class, () -> Tokenizer.load(tmp))
                .detail().contains("not valid JSON"));
    }
}
