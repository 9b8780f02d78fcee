package io.emend.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A model's tokenizer: Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL
 * (byte-level BPE as in GPT-2, SentencePiece-style BPE with byte fallback as in Llama 2; the native library ships
 * in DJL's jar, nothing is downloaded).
 *
 * <p>Special tokens the template would add are never added by the library: {@link #encode(String, boolean)}
 * prepends BOS itself when asked, so the same call works for tokenizers with and without a post-processor.
 * BOS/EOS ids come from {@code config.json} ({@code bos_token_id}, {@code eos_token_id}) and otherwise from
 * {@code tokenizer_config.json}'s {@code bos_token}/{@code eos_token} looked up in the vocabulary.
 */
public final class Tokenizer implements AutoCloseable {

    public static final String FILE_NAME = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer native_;
    private final Vocabulary vocabulary;
    private final int bosId;
    private final int eosId;
    private final Optional<ChatTemplate> chatTemplate;

    private Tokenizer(HuggingFaceTokenizer tokenizer, Vocabulary vocabulary, int bosId, int eosId,
                      Optional<ChatTemplate> chatTemplate) {
        this.native_ = tokenizer;
        this.vocabulary = vocabulary;
        this.bosId = bosId;
        this.eosId = eosId;
        this.chatTemplate = chatTemplate;
    }

    /** Loads {@code tokenizer.json} from a model directory, with BOS/EOS from its config files. */
    public static Tokenizer load(Path modelDir) throws IOException {
        return load(modelDir, -1, -1);
    }

    /**
     * As {@link #load(Path)}, with BOS/EOS ids known from elsewhere (a GGUF file's {@code tokenizer.ggml.*} keys,
     * when the directory holds only the tokenizer beside the file); -1 falls back to the directory's config files.
     */
    public static Tokenizer load(Path modelDir, int knownBosId, int knownEosId) throws IOException {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no tokenizer.json in the model directory");
        }
        Vocabulary vocabulary = Vocabulary.parse(file.toString(), Files.readString(file));
        JsonNode config = readOptional(modelDir.resolve("config.json"));
        JsonNode tokenizerConfig = readOptional(modelDir.resolve("tokenizer_config.json"));
        int bos = knownBosId >= 0 ? knownBosId : specialId(config, "bos_token_id", tokenizerConfig, "bos_token", vocabulary);
        int eos = knownEosId >= 0 ? knownEosId : specialId(config, "eos_token_id", tokenizerConfig, "eos_token", vocabulary);
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.newInstance(file, Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false"));
        } catch (RuntimeException e) {
            throw new MalformedFileException(file.toString(), "the tokenizers library rejected it: " + e.getMessage(), e);
        }
        return new Tokenizer(tokenizer, vocabulary, bos, eos, ChatTemplate.of(modelDir, tokenizerConfig));
    }

    private static JsonNode readOptional(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return JSON.missingNode();
        }
        try {
            return JSON.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(file.toString(), "not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** An id from config.json (int or list: the first), else the token named in tokenizer_config.json; -1 if none. */
    private static int specialId(JsonNode config, String idField, JsonNode tokenizerConfig, String tokenField,
                                 Vocabulary vocabulary) {
        JsonNode id = config.path(idField);
        if (id.isArray() && !id.isEmpty()) {
            id = id.get(0);
        }
        if (id.canConvertToInt() && id.isIntegralNumber()) {
            return id.intValue();
        }
        JsonNode token = tokenizerConfig.path(tokenField);
        String text = token.isTextual() ? token.textValue() : token.path("content").asText(null);
        return text == null ? -1 : vocabulary.id(text).orElse(-1);
    }

    /** Token ids of {@code text}; with {@code addBos}, the BOS id first (when the model has one). */
    public int[] encode(String text, boolean addBos) {
        long[] ids = native_.encode(text, false, false).getIds();
        boolean bos = addBos && bosId >= 0;
        int[] out = new int[ids.length + (bos ? 1 : 0)];
        if (bos) {
            out[0] = bosId;
        }
        for (int i = 0; i < ids.length; i++) {
            out[i + (bos ? 1 : 0)] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Token ids of {@code text} (no BOS added) with the character range each token came from, as UTF-16 indices
     * into {@code text}; special tokens written in the text ({@code <s>}, {@code <|im_end|>}) become their ids.
     */
    public Encoding encodeWithOffsets(String text) {
        ai.djl.huggingface.tokenizers.Encoding e = native_.encode(text, false, false);
        long[] ids = e.getIds();
        ai.djl.huggingface.tokenizers.jni.CharSpan[] spans = e.getCharTokenSpans();
        // the library counts Unicode code points; map them to the String's UTF-16 indices
        int[] utf16 = new int[text.codePointCount(0, text.length()) + 1];
        for (int cp = 0, i = 0; cp < utf16.length; cp++) {
            utf16[cp] = i;
            if (i < text.length()) {
                i += Character.charCount(text.codePointAt(i));
            }
        }
        int[] out = new int[ids.length];
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
            ai.djl.huggingface.tokenizers.jni.CharSpan span = spans[i];
            starts[i] = span == null ? -1 : utf16[Math.min(span.getStart(), utf16.length - 1)];
            ends[i] = span == null ? -1 : utf16[Math.min(span.getEnd(), utf16.length - 1)];
        }
        return new Encoding(out, starts, ends);
    }

    /**
     * Tokens with where they came from.
     *
     * @param ids    [n] token ids
     * @param starts [n] first UTF-16 index of each token's text, -1 when the library gives none
     * @param ends   [n] one past its last index, -1 when the library gives none
     */
    public record Encoding(int[] ids, int[] starts, int[] ends) {
    }

    /** Text of the ids, special tokens (BOS, EOS, ...) skipped, through the tokenizer's own decoder. */
    public String decode(int[] ids) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabulary.size()) {
                throw new IllegalArgumentException("token id " + ids[i] + " is outside the vocabulary [0, "
                        + vocabulary.size() + ")");
            }
            wide[i] = ids[i];
        }
        return native_.decode(wide, true);
    }

    /** A decoder for one generated sequence, fed one id at a time. */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** Beginning-of-sequence id, -1 when the model has none. */
    public int bosId() {
        return bosId;
    }

    /** The model's chat template, when its tokenizer config has one. */
    public Optional<ChatTemplate> chatTemplate() {
        return chatTemplate;
    }

    /** End-of-sequence id, -1 when the model has none. */
    public int eosId() {
        return eosId;
    }

    @Override
    public void close() {
        native_.close();
    }
}
