package io.emend.core.edit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads edit requests from JSON: an array of objects (or a single object) with CounterFact / EasyEdit field names.
 * Unknown fields are ignored (CounterFact files carry {@code case_id}); the known ones must be strings. Untyped JSON
 * stops here.
 */
public final class EditRequests {

    /** The field names this reader understands. */
    public static final Set<String> FIELDS = Set.of("prompt", "subject", "target_new", "ground_truth", "rephrase_prompt",
            "locality_prompt", "locality_ground_truth");

    private static final ObjectMapper JSON = new ObjectMapper();

    private EditRequests() {
    }

    /**
     * @throws java.nio.file.NoSuchFileException when the file is missing
     * @throws InvalidEditException              for malformed JSON, a wrong type, a missing field or a subject not in
     *                                           its prompt; the message names the request and field
     */
    public static List<EditRequest> read(Path file) throws IOException {
        return parse(Files.readString(file));
    }

    public static List<EditRequest> parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidEditException(-1, "requests", "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new InvalidEditException(-1, "requests", "the file is empty");
        }
        List<JsonNode> items = new ArrayList<>();
        if (root.isArray()) {
            root.forEach(items::add);
        } else if (root.isObject()) {
            items.add(root);
        } else {
            throw new InvalidEditException(-1, "requests", "expected an array of request objects");
        }
        if (items.isEmpty()) {
            throw new InvalidEditException(-1, "requests", "no edit requests in the file");
        }
        List<EditRequest> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode n = items.get(i);
            if (!n.isObject()) {
                throw new InvalidEditException(i, "request", "expected an object, got " + n.getNodeType());
            }
            EditRequest r = new EditRequest(
                    required(n, i, "prompt"), required(n, i, "subject"), required(n, i, "target_new"),
                    optional(n, i, "ground_truth"), optional(n, i, "rephrase_prompt"), optional(n, i, "locality_prompt"),
                    optional(n, i, "locality_ground_truth"));
            r.validate(i);
            out.add(r);
        }
        return out;
    }

    private static String required(JsonNode n, int i, String field) {
        return optional(n, i, field).orElseThrow(() -> new InvalidEditException(i, field, "is missing"));
    }

    /** A string field; EasyEdit sometimes writes a one-element list, which is accepted. */
    private static Optional<String> optional(JsonNode n, int i, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return Optional.empty();
        }
        if (v.isArray() && v.size() == 1) {
            v = v.get(0);
        }
        if (!v.isTextual()) {
            throw new InvalidEditException(i, field, "must be a string, got " + v.getNodeType());
        }
        return Optional.of(v.asText());
    }
}
