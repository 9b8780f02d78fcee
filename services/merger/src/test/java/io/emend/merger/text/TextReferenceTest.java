package io.emend.merger.text;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextReferenceTest {

    @Test
    void readsTheThreeForms() {
        var blob = assertInstanceOf(TextReference.Blob.class, TextReference.parse("f", "sha256:" + "AB".repeat(32), 100));
        assertEquals("ab".repeat(32), blob.sha256());
        var key = assertInstanceOf(TextReference.ObjectKey.class, TextReference.parse("f", "datasets/a/b.jsonl", 100));
        assertEquals("datasets/a/b.jsonl", key.key());
        var inline = assertInstanceOf(TextReference.Inline.class,
                TextReference.parse("f", "data:text/plain,a%20b%0A%0Ac+d", 100));
        // percent-decoding only: '+' is a plus in a data URL, not a space
        assertEquals("a b\n\nc+d", new String(inline.bytes(), StandardCharsets.UTF_8));
        String encoded = Base64.getEncoder().encodeToString("héllo".getBytes(StandardCharsets.UTF_8));
        var base64 = assertInstanceOf(TextReference.Inline.class,
                TextReference.parse("f", "data:;base64," + encoded, 100));
        assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), base64.bytes());
    }

    @Test
    void rejectsWhatIsNoneOfThem() {
        for (String bad : new String[] {"", "sha256:12", "/etc/passwd", "../up", "data:no-comma", "data:;base64,*!"}) {
            TextRejected e = assertThrows(TextRejected.class, () -> TextReference.parse("parameters.text", bad, 100),
                    bad);
            assertEquals("parameters.text", e.field());
        }
        TextRejected large = assertThrows(TextRejected.class, () -> TextReference.parse("f", "data:," + "x".repeat(11),
                10));
        assertTrue(large.getMessage().contains("over this merger's limit"), large.getMessage());
    }
}
