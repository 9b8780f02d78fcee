package io.emend.contracts.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The rules every {@link ObjectStore} applies to keys, and the content-addressed layout of blobs. Keys are relative,
 * slash-separated paths: not empty, no leading slash, no empty, {@code .} or {@code ..} segments, no backslash, no
 * control characters, at most 1024 bytes of UTF-8 (S3's limit). A store that maps keys onto a filesystem can then
 * never be steered outside its root.
 */
public final class ObjectKeys {

    /** Where content-addressed blobs live: {@code blobs/sha256/<64 lowercase hex digits>}. */
    public static final String BLOB_PREFIX = "blobs/sha256/";

    /** S3's maximum key length, in bytes of UTF-8. */
    public static final int MAX_KEY_BYTES = 1024;

    /**
     * The order stores list keys in: unsigned comparison of the UTF-8 bytes, which is S3's order ({@link
     * String#compareTo} orders UTF-16 units and disagrees for characters outside the basic plane).
     */
    public static final Comparator<String> ORDER = (a, b) ->
            Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    private ObjectKeys() {
    }

    /** The key of the blob whose SHA-256 is {@code sha256} (hex, either case). */
    public static String blob(String sha256) {
        return BLOB_PREFIX + sha256(sha256);
    }

    /**
     * {@code digest} as 64 lowercase hex digits.
     *
     * @throws IllegalArgumentException when it is not a hex SHA-256 digest
     */
    public static String sha256(String digest) {
        if (digest == null || digest.length() != 64 || !digest.chars().allMatch(HexFormat::isHexDigit)) {
            throw new IllegalArgumentException("not a SHA-256 digest (64 hex digits): " + quote(digest));
        }
        return digest.toLowerCase(Locale.ROOT);
    }

    /**
     * Returns {@code key} when it is a valid object key.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with it
     */
    public static String validate(String key) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("invalid object key " + quote(key) + ": it is empty");
        }
        checkCharacters(key, "key");
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("invalid object key " + quote(key) + ": longer than " + MAX_KEY_BYTES
                    + " bytes");
        }
        checkSegments(key, key.split("/", -1), "key");
        return key;
    }

    /** Whether {@code key} follows the rules of {@link #validate}. */
    public static boolean isValid(String key) {
        try {
            validate(key);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Returns {@code prefix} when it can start keys: empty (everything), a partial segment ({@code blobs/sha256/ab})
     * or ending in a slash ({@code datasets/}).
     *
     * @throws IllegalArgumentException naming the prefix and what is wrong with it
     */
    public static String validatePrefix(String prefix) {
        if (prefix == null) {
            throw new IllegalArgumentException("invalid object key prefix null: use \"\" to list everything");
        }
        if (prefix.isEmpty()) {
            return prefix;
        }
        checkCharacters(prefix, "key prefix");
        String[] segments = prefix.split("/", -1);
        // A trailing slash leaves one empty last segment, which is fine for a prefix; the last segment may also be
        // a partial name, so only complete segments are checked for "." and "..".
        checkSegments(prefix, Arrays.copyOf(segments, segments.length - 1), "key prefix");
        return prefix;
    }

    private static void checkCharacters(String key, String what) {
        if (key.startsWith("/")) {
            throw new IllegalArgumentException("invalid object " + what + " " + quote(key)
                    + ": it must be relative (no leading slash)");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '\\') {
                throw new IllegalArgumentException("invalid object " + what + " " + quote(key)
                        + ": backslash is not allowed, separate segments with '/'");
            }
            if (Character.isISOControl(c)) {
                throw new IllegalArgumentException("invalid object " + what + " " + quote(key)
                        + ": control character at index " + i);
            }
        }
    }

    private static void checkSegments(String key, String[] segments, String what) {
        for (String segment : segments) {
            if (segment.isEmpty()) {
                throw new IllegalArgumentException("invalid object " + what + " " + quote(key)
                        + ": empty segment (double or trailing slash)");
            }
            if (segment.equals("..") || segment.equals(".")) {
                throw new IllegalArgumentException("invalid object " + what + " " + quote(key) + ": segment '"
                        + segment + "' is not allowed");
            }
        }
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder("\"");
        s.codePoints().limit(200).forEach(cp -> {
            if (Character.isISOControl(cp)) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return out.append(s.length() > 200 ? "...\"" : "\"").toString();
    }
}
