package io.emend.core.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What decides the token ids of a model directory's tokenizer, compared between two models: two tokenizers that agree
 * here turn every text into the same ids, so the rows of their embedding matrices mean the same tokens. File bytes are
 * not compared where they carry more than that (a tokenizer.json's normalizer, padding or truncation settings change
 * no id).
 *
 * <p>A tokenizer comes in one of three {@link Form}s, tried in this order; two models are compared in the first form
 * both have, so a model that ships both tokenizer.json and tokenizer.model is compared with one that ships only
 * tokenizer.model on the latter. Models with no form in common (one has no tokenizer files at all, say) cannot be
 * told apart and are not reported.
 */
public final class TokenIdScheme {

    /** The files that fix the ids, in the order they are preferred. */
    public enum Form {
        /** Hugging Face's tokenizer.json: its {@code model} section and its {@code added_tokens} ids and contents. */
        TOKENIZER_JSON("tokenizer.json", "tokenizer.json"),
        /** A SentencePiece model, compared byte for byte, with added_tokens.json when either model has one. */
        SENTENCEPIECE("tokenizer.model", "tokenizer.model"),
        /** GPT-2's byte-level BPE files (vocab.json and merges.txt), with added_tokens.json when either has one. */
        GPT2_BPE("vocab.json", "vocab.json + merges.txt");

        private final String file;
        private final String files;

        Form(String file, String files) {
            this.file = file;
            this.files = files;
        }

        /** The file whose presence means a model has this form. */
        public String file() {
            return file;
        }
    }

    static final String ADDED_TOKENS_FILE = "added_tokens.json";
    static final String MERGES_FILE = "merges.txt";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Values quoted in a message are cut here, so a long merge list or score array never floods it. */
    private static final int QUOTE_LIMIT = 80;

    private TokenIdScheme() {
    }

    /** The forms a model directory has, in order of preference. */
    public static List<Form> forms(Path dir) {
        return Arrays.stream(Form.values()).filter(f -> Files.isRegularFile(dir.resolve(f.file()))).toList();
    }

    /**
     * How the tokenizers of two model directories assign ids differently, in the first form both have: e.g.
     * {@code token 17 is "foo" in 'a' and "bar" in 'b'}; empty when they agree or share no form.
     *
     * @param a     the first model's name in the message
     * @param b     the second model's name in the message
     * @throws MalformedFileException when a tokenizer file cannot be read as its format says
     */
    public static Optional<String> difference(Path dirA, String a, Path dirB, String b) throws IOException {
        List<Form> theirs = forms(dirB);
        for (Form form : forms(dirA)) {
            if (theirs.contains(form)) {
                Optional<String> d = switch (form) {
                    case TOKENIZER_JSON -> tokenizerJson(dirA, a, dirB, b);
                    case SENTENCEPIECE -> sentencePiece(dirA, a, dirB, b);
                    case GPT2_BPE -> gpt2Bpe(dirA, a, dirB, b);
                };
                return d.map(text -> form.files + ": " + text);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> tokenizerJson(Path dirA, String a, Path dirB, String b) throws IOException {
        JsonNode rootA = readJson(dirA.resolve(Form.TOKENIZER_JSON.file()));
        JsonNode rootB = readJson(dirB.resolve(Form.TOKENIZER_JSON.file()));
        JsonNode modelA = rootA.path("model");
        JsonNode modelB = rootB.path("model");
        String typeA = modelA.path("type").asText("");
        String typeB = modelB.path("type").asText("");
        if (!typeA.equals(typeB)) {
            return Optional.of("the model type is " + quote(typeA) + " in '" + a + "' and " + quote(typeB) + " in '"
                    + b + "'");
        }
        Optional<String> vocab = vocab(modelA.path("vocab"), a, dirA, modelB.path("vocab"), b, dirB);
        if (vocab.isPresent()) {
            return vocab;
        }
        Set<String> keys = new LinkedHashSet<>();
        modelA.fieldNames().forEachRemaining(keys::add);
        modelB.fieldNames().forEachRemaining(keys::add);
        for (String key : keys) {
            if (key.equals("vocab")) {
                continue;
            }
            JsonNode x = key.equals("merges") ? merges(modelA.path(key)) : modelA.path(key);
            JsonNode y = key.equals("merges") ? merges(modelB.path(key)) : modelB.path(key);
            Optional<String> d = node("model." + key, x, a, y, b);
            if (d.isPresent()) {
                return d;
            }
        }
        return ids("added token", added(rootA.path("added_tokens"), dirA), a,
                added(rootB.path("added_tokens"), dirB), b);
    }

    /**
     * The vocabulary of a tokenizer.json model: an object piece → id (BPE, WordPiece, WordLevel) compared id by id,
     * or a list of [piece, score] (Unigram) whose ids are the positions, compared piece then score.
     */
    private static Optional<String> vocab(JsonNode x, String a, Path dirA, JsonNode y, String b, Path dirB) {
        if (x.isObject() && y.isObject()) {
            return ids("token", byId(x, dirA.resolve(Form.TOKENIZER_JSON.file()) + " model.vocab"), a,
                    byId(y, dirB.resolve(Form.TOKENIZER_JSON.file()) + " model.vocab"), b);
        }
        if (x.isArray() && y.isArray()) {
            TreeMap<Integer, String> piecesA = new TreeMap<>();
            TreeMap<Integer, String> piecesB = new TreeMap<>();
            for (int i = 0; i < x.size(); i++) {
                piecesA.put(i, x.get(i).path(0).asText());
            }
            for (int i = 0; i < y.size(); i++) {
                piecesB.put(i, y.get(i).path(0).asText());
            }
            Optional<String> d = ids("token", piecesA, a, piecesB, b);
            if (d.isPresent()) {
                return d;
            }
            for (int i = 0; i < x.size(); i++) {
                if (!x.get(i).path(1).equals(y.get(i).path(1))) {
                    return Optional.of("token " + i + " (" + quote(piecesA.get(i)) + ") has score " + x.get(i).path(1)
                            + " in '" + a + "' and " + y.get(i).path(1) + " in '" + b + "'");
                }
            }
            return Optional.empty();
        }
        return node("model.vocab", x, a, y, b);
    }

    /** Merges as "left right" strings, whichever of the two spellings tokenizer.json uses ("a b" or [a, b]). */
    private static JsonNode merges(JsonNode merges) {
        if (!merges.isArray()) {
            return merges;
        }
        var normal = JSON.createArrayNode();
        for (JsonNode m : merges) {
            normal.add(m.isArray() && m.size() == 2 ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        }
        return normal;
    }

    private static Optional<String> sentencePiece(Path dirA, String a, Path dirB, String b) throws IOException {
        byte[] x = Files.readAllBytes(dirA.resolve(Form.SENTENCEPIECE.file()));
        byte[] y = Files.readAllBytes(dirB.resolve(Form.SENTENCEPIECE.file()));
        int at = Arrays.mismatch(x, y);
        if (at >= 0) {
            return Optional.of("the SentencePiece models differ from byte " + at + " (" + x.length + " bytes in '" + a
                    + "', " + y.length + " in '" + b + "')");
        }
        return addedTokensFile(dirA, a, dirB, b);
    }

    private static Optional<String> gpt2Bpe(Path dirA, String a, Path dirB, String b) throws IOException {
        Path vocabA = dirA.resolve(Form.GPT2_BPE.file());
        Path vocabB = dirB.resolve(Form.GPT2_BPE.file());
        Optional<String> d = ids("token", byId(readJson(vocabA), vocabA.toString()), a,
                byId(readJson(vocabB), vocabB.toString()), b);
        if (d.isPresent()) {
            return d;
        }
        List<String> mergesA = mergeLines(dirA.resolve(MERGES_FILE));
        List<String> mergesB = mergeLines(dirB.resolve(MERGES_FILE));
        int at = mismatch(mergesA, mergesB);
        if (at >= 0) {
            return Optional.of("merge " + at + " is " + at(mergesA, at) + " in '" + a + "' and "
                    + at(mergesB, at) + " in '" + b + "'");
        }
        return addedTokensFile(dirA, a, dirB, b);
    }

    /** The merges of a merges.txt, in priority order, without its {@code #version} line; none when it is absent. */
    private static List<String> mergeLines(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank() && !line.startsWith("#version")) {
                lines.add(line);
            }
        }
        return lines;
    }

    /** added_tokens.json (content → id), which extends the ids of a SentencePiece or GPT-2 BPE vocabulary. */
    private static Optional<String> addedTokensFile(Path dirA, String a, Path dirB, String b) throws IOException {
        return ids("added token", addedTokensFile(dirA), a, addedTokensFile(dirB), b);
    }

    private static TreeMap<Integer, String> addedTokensFile(Path dir) throws IOException {
        Path file = dir.resolve(ADDED_TOKENS_FILE);
        return Files.isRegularFile(file) ? byId(readJson(file), file.toString()) : new TreeMap<>();
    }

    /** tokenizer.json's added_tokens as id → content. */
    private static TreeMap<Integer, String> added(JsonNode list, Path dir) {
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (JsonNode t : list) {
            if (!t.path("id").canConvertToInt() || !t.path("content").isTextual()) {
                throw new MalformedFileException(dir.resolve(Form.TOKENIZER_JSON.file()),
                        "added_tokens entry " + clip(t.toString()) + " lacks an id or a content");
            }
            byId.put(t.path("id").intValue(), t.path("content").textValue());
        }
        return byId;
    }

    /** An object piece → id turned around. */
    private static TreeMap<Integer, String> byId(JsonNode vocab, String source) {
        if (!vocab.isObject()) {
            throw new MalformedFileException(source, "must be an object from token to id");
        }
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt()) {
                throw new MalformedFileException(source, clip(quote(e.getKey())) + " has no integer id");
            }
            byId.put(e.getValue().intValue(), e.getKey());
        }
        return byId;
    }

    /**
     * The lowest id that the two tables map differently, as {@code <what> 17 is "x" in 'a' and "y" in 'b'} (or "no
     * token"), led by the table sizes when they differ.
     */
    private static Optional<String> ids(String what, TreeMap<Integer, String> x, String a, TreeMap<Integer, String> y,
                                        String b) {
        TreeSet<Integer> all = new TreeSet<>(x.keySet());
        all.addAll(y.keySet());
        for (int id : all) {
            String p = x.get(id);
            String q = y.get(id);
            if (p == null || !p.equals(q)) {
                String sizes = x.size() == y.size() ? "" : x.size() + " " + what + "s in '" + a + "' and " + y.size()
                        + " in '" + b + "'; ";
                return Optional.of(sizes + what + " " + id + " is " + piece(p) + " in '" + a + "' and " + piece(q)
                        + " in '" + b + "'");
            }
        }
        return Optional.empty();
    }

    /** Two JSON values of the same key: the first differing element of two arrays, else the values themselves. */
    private static Optional<String> node(String key, JsonNode x, String a, JsonNode y, String b) {
        if (x.equals(y)) {
            return Optional.empty();
        }
        if (x.isArray() && y.isArray()) {
            List<JsonNode> xs = new ArrayList<>();
            x.forEach(xs::add);
            List<JsonNode> ys = new ArrayList<>();
            y.forEach(ys::add);
            int at = mismatch(xs, ys);
            String sizes = xs.size() == ys.size() ? "" : key + " has " + xs.size() + " entries in '" + a + "' and "
                    + ys.size() + " in '" + b + "'; ";
            return Optional.of(sizes + key + "[" + at + "] is " + at(xs, at) + " in '" + a + "' and " + at(ys, at)
                    + " in '" + b + "'");
        }
        return Optional.of(key + " is " + json(x) + " in '" + a + "' and " + json(y) + " in '" + b + "'");
    }

    private static <T> int mismatch(List<T> x, List<T> y) {
        int n = Math.min(x.size(), y.size());
        for (int i = 0; i < n; i++) {
            if (!x.get(i).equals(y.get(i))) {
                return i;
            }
        }
        return x.size() == y.size() ? -1 : n;
    }

    private static String at(List<?> list, int i) {
        if (i >= list.size()) {
            return "absent";
        }
        return list.get(i) instanceof JsonNode n ? json(n) : quote(list.get(i).toString());
    }

    private static String piece(String piece) {
        return piece == null ? "absent" : quote(piece);
    }

    private static String json(JsonNode n) {
        return n.isMissingNode() ? "absent" : clip(n.toString());
    }

    /** A piece as a JSON string, so spaces, control characters and quotes stay visible. */
    private static String quote(String text) {
        try {
            return clip(JSON.writeValueAsString(text));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a string always writes as JSON", e);
        }
    }

    private static String clip(String text) {
        return text.length() <= QUOTE_LIMIT ? text : text.substring(0, QUOTE_LIMIT) + "…";
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) {
                throw new MalformedFileException(file, "must be a JSON object");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(file, "not valid JSON: " + e.getOriginalMessage());
        }
    }
}
