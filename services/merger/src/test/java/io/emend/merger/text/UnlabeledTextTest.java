package io.emend.merger.text;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnlabeledTextTest {

    private static String of(String text) {
        return UnlabeledText.of("t", text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void plainTextIsTakenAsItIs() {
        assertEquals("one story.\n\n{not json} second.\n", of("one story.\n\n{not json} second.\n"));
    }

    @Test
    void jsonLinesInTheTrainersLayoutsBecomeOneDocumentEach() {
        String jsonl = """
                {"text": "a cat."}

                {"prompt": "Q: sky? ", "completion": "blue."}
                {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
                """;
        assertEquals("a cat.\n\nQ: sky? blue.\n\nhi\nhello", of(jsonl));
    }

    @Test
    void badInputIsRejectedWithItsLine() {
        assertTrue(assertThrows(TextRejected.class, () -> of("{\"text\": \"a\"}\n{\"label\": 1}\n")).getMessage()
                .contains("JSON line 2 has none of text"));
        assertTrue(assertThrows(TextRejected.class, () -> of("{\"text\": \n")).getMessage()
                .contains("JSON line 1 is not valid JSON"));
        assertTrue(assertThrows(TextRejected.class, () -> of("  \n\n")).getMessage().contains("holds no text"));
        assertTrue(assertThrows(TextRejected.class, () -> UnlabeledText.of("t", new byte[] {(byte) 0xC3, 0x28}))
                .getMessage().contains("not UTF-8"));
    }
}
