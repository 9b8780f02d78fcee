package io.emend.merger.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A text's bytes as the plain text AdaMerging and perplexity read, documents separated by blank lines. Plain UTF-8
 * text is taken as it is. JSON Lines in the trainer's layouts (every non-blank line an object) give one document per
 * line: {@code text}; {@code prompt} followed by {@code completion}; or the {@code content} of each of
 * {@code messages}, one per line. Only the words matter here (nothing is trained on them), so no chat template is
 * applied.
 */
public final class UnlabeledText {

    private static final ObjectMapper JSON = new ObjectMapper();

    private UnlabeledText() {
    }

    /**
     * @param field the request field naming the text, for messages
     * @throws TextRejected when the bytes are not UTF-8, a JSON line is none of the layouts, or no text remains
     */
    public static String of(String field, byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new TextRejected(field, field + " is not UTF-8 text");
        }
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new TextRejected(field, field + " holds no text");
        }
        if (!lines.stream().allMatch(l -> l.strip().startsWith("{"))) {
            return text;
        }
        List<String> documents = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            documents.add(document(field, i + 1, lines.get(i)));
        }
        return String.join("\n\n", documents);
    }

    private static String document(String field, int line, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new TextRejected(field, field + ": JSON line " + line + " is not valid JSON");
        }
        if (root.path("text").isTextual()) {
            return root.get("text").asText();
        }
        if (root.path("prompt").isTextual() && root.path("completion").isTextual()) {
            return root.get("prompt").asText() + root.get("completion").asText();
        }
        if (root.path("messages").isArray() && !root.get("messages").isEmpty()) {
            List<String> contents = new ArrayList<>();
            for (JsonNode m : root.get("messages")) {
                if (!m.path("content").isTextual()) {
                    throw new TextRejected(field, field + ": JSON line " + line + " has a message without text content");
                }
                contents.add(m.get("content").asText());
            }
            return String.join("\n", contents);
        }
        throw new TextRejected(field, field + ": JSON line " + line + " has none of text, prompt + completion or"
                + " messages");
    }
}
