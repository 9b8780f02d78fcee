package io.emend.core.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The token table of a {@code tokenizer.json} (BPE models): piece text by id, the merges in priority order, and
 * which ids are special (added tokens marked special). Encoding and decoding go through {@link Tokenizer}; this
 * table is what exporters (GGUF) and id lookups need.
 *
 * @param pieces      piece text by id; ids absent from the file are null
 * @param merges      BPE merges, highest priority first, each as the two pieces joined by one space
 * @param specialIds  ids of added tokens marked {@code special}
 * @param byteFallback whether the model falls back to {@code <0xNN>} pieces for unknown bytes (SentencePiece style)
 * @param unkId       the unknown-token id, -1 when the model has none
 */
public record Vocabulary(List<String> pieces, List<String> merges, Set<Integer> specialIds, boolean byteFallback,
                         int unkId) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public Vocabulary {
        pieces = java.util.Collections.unmodifiableList(new ArrayList<>(pieces));
        merges = List.copyOf(merges);
        specialIds = Set.copyOf(specialIds);
    }

    public int size() {
        return pieces.size();
    }

    /** The id of a piece, if the vocabulary has it. */
    public Optional<Integer> id(String piece) {
        int i = pieces.indexOf(piece);
        return i < 0 ? Optional.empty() : Optional.of(i);
    }

    /** Parses the {@code model} and {@code added_tokens} sections of tokenizer.json text. */
    public static Vocabulary parse(String source, String tokenizerJson) {
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson);
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(source, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedFileException(source, "must be a JSON object");
        }
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        if (!type.equals("BPE")) {
            throw new MalformedFileException(source, "model.type '" + type + "' is not supported (only BPE)");
        }
        JsonNode vocab = model.get("vocab");
        if (vocab == null || !vocab.isObject()) {
            throw new MalformedFileException(source, "model.vocab is missing or not an object");
        }
        Map<Integer, String> byId = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().intValue() < 0) {
                throw new MalformedFileException(source, "model.vocab." + e.getKey() + " is not a token id");
            }
            byId.put(e.getValue().intValue(), e.getKey());
        }
        Set<Integer> special = new HashSet<>();
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt(-1);
            String content = added.path("content").asText(null);
            if (id < 0 || content == null) {
                throw new MalformedFileException(source, "added_tokens entry " + added + " lacks id or content");
            }
            byId.put(id, content);
            if (added.path("special").asBoolean(false)) {
                special.add(id);
            }
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        String[] pieces = new String[size];
        byId.forEach((id, piece) -> pieces[id] = piece);
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isTextual()) {
                merges.add(m.textValue());
            } else if (m.isArray() && m.size() == 2) {
                merges.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                throw new MalformedFileException(source, "model.merges entry " + m + " is neither \"a b\" nor [a, b]");
            }
        }
        String unk = model.path("unk_token").isTextual() ? model.path("unk_token").textValue() : null;
        int unkId = unk == null ? -1 : Arrays.asList(pieces).indexOf(unk);
        return new Vocabulary(Arrays.asList(pieces), merges, special, model.path("byte_fallback").asBoolean(false), unkId);
    }
}
