package io.emend.core.train.data;

import io.emend.core.format.Fixtures;
import io.emend.core.format.MalformedFileException;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonlDatasetTest {

    private static Tokenizer tokenizer;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(Fixtures.model("stories260k"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void textTrainsOnEveryTokenAfterTheBos() {
        TrainingExample e = JsonlDataset.parse("t", 1, "{\"text\": \"Once upon a time\"}", tokenizer);
        int[] body = tokenizer.encode("Once upon a time", false);
        assertEquals(body.length + 2, e.length());
        assertEquals(tokenizer.bosId(), e.tokens()[0]);
        assertEquals(tokenizer.eosId(), e.tokens()[e.length() - 1]);
        assertFalse(e.targets()[0]);
        for (int i = 1; i < e.length(); i++) {
            assertTrue(e.targets()[i]);
        }
    }

    @Test
    void promptCompletionTrainsOnTheCompletionOnly() {
        TrainingExample e = JsonlDataset.parse("t", 1, "{\"prompt\": \"Tom had a dog.\", \"completion\": \"It was big.\"}",
                tokenizer);
        int prompt = tokenizer.encode("Tom had a dog.", false).length;
        int completion = tokenizer.encode("It was big.", false).length;
        assertEquals(1 + prompt + completion + 1, e.length());
        for (int i = 0; i <= prompt; i++) {
            assertFalse(e.targets()[i], "BOS and prompt tokens are context only");
        }
        for (int i = prompt + 1; i < e.length(); i++) {
            assertTrue(e.targets()[i], "completion and EOS are learned");
        }
    }

    @Test
    void messagesUseThePlainTemplateWhenTheModelHasNone() {
        TrainingExample e = JsonlDataset.parse("t", 1, "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"},"
                + " {\"role\": \"assistant\", \"content\": \"Hello\"}]}", tokenizer);
        int[] expected = concat(new int[] {tokenizer.bosId()}, tokenizer.encode("user: ", false),
                tokenizer.encode("Hi\n", false), tokenizer.encode("assistant: ", false),
                tokenizer.encode("Hello\n", false), new int[] {tokenizer.eosId()});
        assertArrayEquals(expected, e.tokens());
        int learned = 0;
        for (boolean t : e.targets()) {
            learned += t ? 1 : 0;
        }
        assertEquals(tokenizer.encode("Hello\n", false).length + 1, learned);
        assertTrue(e.targets()[e.length() - 1]);
        assertFalse(e.targets()[1]);
    }

    @Test
    void messagesUseTheModelsChatTemplateAndTrainOnAssistantTurnsOnly() throws IOException {
        Path model = io.emend.core.tokenizer.ChatTemplateTest.modelWithTemplate(dir,
                io.emend.core.tokenizer.jinja.JinjaTemplateTest.LLAMA2);
        try (Tokenizer llama = Tokenizer.load(model)) {
            TrainingExample e = JsonlDataset.parse("t", 1, "{\"messages\": [{\"role\": \"user\", \"content\": "
                    + "\"Where is Tom?\"}, {\"role\": \"assistant\", \"content\": \"In the park.\"}]}", llama);
            // "<s>[INST] Where is Tom? [/INST] In the park. </s>": the template writes BOS and EOS, nothing is added
            assertArrayEquals(llama.encodeWithOffsets("<s>[INST] Where is Tom? [/INST] In the park. </s>").ids(),
                    e.tokens());
            assertEquals(llama.bosId(), e.tokens()[0]);
            assertEquals(llama.eosId(), e.tokens()[e.length() - 1]);
            assertTrue(e.targets()[e.length() - 1], "the EOS closing the reply is learned");
            java.util.List<Integer> learned = new java.util.ArrayList<>();
            java.util.List<Integer> context = new java.util.ArrayList<>();
            for (int i = 0; i < e.length(); i++) {
                (e.targets()[i] ? learned : context).add(e.tokens()[i]);
            }
            assertEquals("In the park.", llama.decode(learned.stream().mapToInt(Integer::intValue).toArray()).strip());
            assertEquals("[INST] Where is Tom? [/INST]",
                    llama.decode(context.stream().mapToInt(Integer::intValue).toArray()).strip());

            Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"messages\": [{\"role\": \"user\", "
                    + "\"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}]}\n"
                    + "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"user\", "
                    + "\"content\": \"b\"}, {\"role\": \"assistant\", \"content\": \"c\"}]}\n");
            MalformedFileException m = assertThrows(MalformedFileException.class, () -> JsonlDataset.read(bad, llama));
            assertTrue(m.getMessage().contains("line 2: chat template: Conversation roles must alternate"),
                    m.getMessage());
        }
    }

    private static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(java.util.Arrays::stream).toArray();
    }

    @Test
    void badLinesAreRejectedWithTheirLineNumberAndField() throws IOException {
        assertBad("{\"text\": \"ok\"}\n\n{\"text\": \"ok\"\n", "line 3: not valid JSON");
        assertBad("{\"text\": \"ok\"}\n[1, 2]\n", "line 2: must be a JSON object");
        assertBad("{\"text\": 5}\n", "line 1: field \"text\" must be a string");
        assertBad("{\"prompt\": \"a\"}\n", "line 1: field \"completion\" is missing");
        assertBad("{\"body\": \"a\"}\n", "line 1: needs a \"text\" field");
        assertBad("{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}\n", "line 1: messages[0].role must be");
        assertBad("{\"messages\": [{\"role\": \"user\", \"content\": 3}]}\n", "line 1: field \"messages[0].content\"");
        assertBad("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n", "no assistant message");
        assertBad("\n\n", "has no examples");
    }

    private void assertBad(String content, String expected) throws IOException {
        Path f = Files.writeString(Files.createTempFile(dir, "bad", ".jsonl"), content);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> JsonlDataset.read(f, tokenizer));
        assertTrue(e.getMessage().contains(expected), e.getMessage() + " should contain: " + expected);
        assertTrue(e.getMessage().startsWith(f.toString()), "the message names the file");
    }

    @Test
    void packingPredictsEveryTokenOnceAndKeepsMasks() {
        List<TrainingExample> ex = List.of(
                new TrainingExample(new int[] {1, 5, 6, 7, 2}, new boolean[] {false, false, true, true, true}, 1),
                new TrainingExample(new int[] {1, 8, 9, 2}, new boolean[] {false, true, true, true}, 2));
        List<PackedSequence> rows = Packing.pack(ex, 4);
        // stream: 1 5 6 7 2 1 8 9 2 -> windows [0,5) [4,9)
        assertEquals(2, rows.size());
        assertArrayEquals(new int[] {1, 5, 6, 7, 2}, rows.get(0).tokens());
        assertArrayEquals(new int[] {2, 1, 8, 9, 2}, rows.get(1).tokens());
        assertEquals(3, rows.get(0).targetCount());
        assertEquals(3, rows.get(1).targetCount());
        SequenceBatch b = SequenceBatch.of(rows);
        assertEquals(6, b.targets());
        assertEquals(4, b.inputs().length());
        assertEquals(6, b.labels()[1], "position 1 (token 5) predicts 6");
        assertEquals(0f, b.weights()[0], "predicting 5 after BOS is in the prompt");
    }

    @Test
    void heldOutSplitIsSeededAndDisjoint() {
        List<TrainingExample> ex = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ex.add(new TrainingExample(new int[] {1, i + 3}, new boolean[] {false, true}, i + 1));
        }
        HeldOutSplit a = HeldOutSplit.of(ex, 0.2, 7);
        HeldOutSplit b = HeldOutSplit.of(ex, 0.2, 7);
        assertEquals(4, a.heldOut().size());
        assertEquals(16, a.train().size());
        assertEquals(a.heldOut().stream().map(TrainingExample::line).toList(),
                b.heldOut().stream().map(TrainingExample::line).toList());
        assertTrue(a.train().stream().noneMatch(a.heldOut()::contains));
        assertThrows(IllegalArgumentException.class, () -> HeldOutSplit.of(ex.subList(0, 1), 0.5, 1));
    }
}
