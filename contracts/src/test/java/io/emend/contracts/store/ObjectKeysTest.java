package io.emend.contracts.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObjectKeysTest {

    private static final String DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    @Test
    void blobKeysAreContentAddressed() {
        assertEquals("blobs/sha256/" + DIGEST, ObjectKeys.blob(DIGEST));
        assertEquals("blobs/sha256/" + DIGEST, ObjectKeys.blob(DIGEST.toUpperCase()));
        assertEquals(ObjectKeys.blob(DIGEST), ObjectKeys.validate(ObjectKeys.blob(DIGEST)));
    }

    @Test
    void digestsMustBe64HexDigits() {
        for (String bad : new String[] {null, "", DIGEST.substring(1), DIGEST + "0", "g" + DIGEST.substring(1),
                "../" + DIGEST.substring(3)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ObjectKeys.blob(bad));
            assertTrue(e.getMessage().startsWith("not a SHA-256 digest"), e.getMessage());
        }
    }

    @Test
    void messagesSayWhatIsWrong() {
        assertMessage("", "it is empty");
        assertMessage(null, "it is empty");
        assertMessage("/etc/passwd", "no leading slash");
        assertMessage("a\\b", "backslash");
        assertMessage("a//b", "empty segment");
        assertMessage("a/", "empty segment");
        assertMessage("x/../../etc", "segment '..'");
        assertMessage("x/./y", "segment '.'");
        assertMessage("nul\u0000byte", "control character at index 3");
    }

    @Test
    void unusualButHarmlessKeysAreAccepted() {
        for (String key : List.of("a", "..hidden", "a/.gitattributes", "x/...", "é/ü", "with space", "a..b")) {
            assertEquals(key, ObjectKeys.validate(key));
            assertTrue(ObjectKeys.isValid(key));
        }
        assertTrue(!ObjectKeys.isValid("folder/"));
    }

    @Test
    void prefixesMayEndInASlashOrMidSegment() {
        for (String prefix : List.of("", "a", "a/", "blobs/sha256/ab", "..x", "a/.")) {
            assertEquals(prefix, ObjectKeys.validatePrefix(prefix));
        }
        for (String prefix : new String[] {null, "/a", "a//", "../", "a/./b", "a\\"}) {
            assertThrows(IllegalArgumentException.class, () -> ObjectKeys.validatePrefix(prefix));
        }
    }

    @Test
    void orderIsByUtf8Bytes() {
        // U+FF5E sorts after U+1F600 in UTF-16 units (0xFF5E > 0xD83D) but before it in UTF-8 (EF.. < F0..).
        List<String> keys = new ArrayList<>(List.of("\uD83D\uDE00", "\uFF5E", "a/b", "a-b", "a"));
        keys.sort(ObjectKeys.ORDER);
        assertEquals(List.of("a", "a-b", "a/b", "\uFF5E", "\uD83D\uDE00"), keys);
    }

    private static void assertMessage(String key, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ObjectKeys.validate(key));
        assertTrue(e.getMessage().startsWith("invalid object key"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
