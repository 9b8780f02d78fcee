package io.emend.merger.text;

import io.emend.contracts.store.ObjectKeys;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * How a request names a text (AdaMerging's unlabeled text, a materialization's evaluation text), in the trainer's
 * terms for its datasets plus one inline form:
 * <ul>
 *   <li>{@code sha256:<hex>}: a registry blob;</li>
 *   <li>{@code data:[<media type>][;base64],<text>}: the text itself, as an RFC 2397 data URL (percent-encoded, or
 *       base64 after {@code ;base64});</li>
 *   <li>anything else: a key of the object store the trainer's datasets land in.</li>
 * </ul>
 * The content is plain UTF-8 text, or JSON Lines in the trainer's layouts ({@link UnlabeledText}).
 */
public sealed interface TextReference {

    /** The reference as the request wrote it. */
    String ref();

    /** A registry blob. */
    record Blob(String ref, String sha256) implements TextReference {
    }

    /** The text itself. */
    record Inline(String ref, byte[] bytes) implements TextReference {
    }

    /** An object-store key. */
    record ObjectKey(String ref, String key) implements TextReference {
    }

    /**
     * Reads a reference.
     *
     * @param field    the request field, for messages
     * @param maxBytes the largest inline text accepted
     * @throws TextRejected when it is none of the three forms, or an inline text is malformed or too large
     */
    static TextReference parse(String field, String ref, long maxBytes) {
        if (ref == null || ref.isBlank()) {
            throw new TextRejected(field, field + " is empty; name a text as sha256:<hex> (a registry blob), an"
                    + " object-store key, or data:,<text>");
        }
        if (ref.startsWith("sha256:")) {
            String hex = ref.substring("sha256:".length());
            if (!hex.matches("[0-9a-fA-F]{64}")) {
                throw new TextRejected(field, field + " '" + ref + "' is not sha256: and 64 hex digits");
            }
            return new Blob(ref, hex.toLowerCase(Locale.ROOT));
        }
        if (ref.startsWith("data:")) {
            return new Inline(shortened(ref), inline(field, ref, maxBytes));
        }
        try {
            return new ObjectKey(ref, ObjectKeys.validate(ref));
        } catch (IllegalArgumentException e) {
            throw new TextRejected(field, field + " '" + ref + "' is not sha256:<hex>, a data: URL or a valid"
                    + " object-store key: " + e.getMessage());
        }
    }

    private static byte[] inline(String field, String ref, long maxBytes) {
        int comma = ref.indexOf(',');
        if (comma < 0) {
            throw new TextRejected(field, field + ": a data: URL needs a comma before its text (data:,<text>)");
        }
        String header = ref.substring("data:".length(), comma);
        String body = ref.substring(comma + 1);
        byte[] bytes;
        try {
            bytes = header.endsWith(";base64") ? Base64.getDecoder().decode(body.strip())
                    : java.net.URLDecoder.decode(body.replace("+", "%2B"), StandardCharsets.UTF_8)
                            .getBytes(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new TextRejected(field, field + ": the data: URL's text does not decode (" + e.getMessage() + ")");
        }
        if (bytes.length > maxBytes) {
            throw new TextRejected(field, field + " is " + bytes.length + " bytes inline, over this merger's limit of "
                    + maxBytes + " bytes (emend.merger.limits.max-text-bytes)");
        }
        return bytes;
    }

    /** A data URL is recorded by its start only: the recipe keeps the whole request anyway. */
    private static String shortened(String ref) {
        return ref.length() <= 48 ? ref : ref.substring(0, 48) + "…";
    }
}
