package io.emend.core.format.gguf;

import io.emend.core.format.MalformedFileException;
import io.emend.core.model.LlamaConfig;
import java.util.Optional;

/**
 * Reads back what {@link GgufExport} (or llama.cpp's converter) writes for architecture {@code llama}: the
 * hyperparameters under {@code llama.*} become a {@link LlamaConfig}, so a GGUF file can be loaded without its
 * {@code config.json}. Untyped metadata stops here.
 */
public final class GgufImport {

    /** llama.cpp's default when {@code llama.rope.freq_base} is absent. */
    static final double DEFAULT_ROPE_THETA = 10_000.0;
    /** llama.cpp's default when {@code llama.attention.layer_norm_rms_epsilon} is absent. */
    static final double DEFAULT_RMS_EPS = 1e-5;

    private GgufImport() {
    }

    /**
     * The Llama config the file's metadata describes. The head is tied when there is no {@code output.weight}.
     *
     * @throws MalformedFileException for another architecture, a missing or mistyped key, or inconsistent sizes
     */
    public static LlamaConfig llamaConfig(GgufFile file) {
        String where = file.path().toString();
        String arch = string(file, "general.architecture")
                .orElseThrow(() -> new MalformedFileException(where, "general.architecture is missing"));
        if (!arch.equals("llama")) {
            throw new MalformedFileException(where, "architecture '" + arch
                    + "' is not supported by the engine's GGUF loader (llama is)");
        }
        int hidden = required(file, "llama.embedding_length");
        int heads = required(file, "llama.attention.head_count");
        int kvHeads = integer(file, "llama.attention.head_count_kv").orElse(heads);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || hidden % heads != 0) {
            throw new MalformedFileException(where, heads + " heads, " + kvHeads + " KV heads and width " + hidden
                    + " do not fit together");
        }
        int headDim = integer(file, "llama.attention.key_length").orElse(hidden / heads);
        int vocab = integer(file, "llama.vocab_size").orElseGet(() -> file.metadata("tokenizer.ggml.tokens")
                .map(v -> v.asList().size())
                .orElseThrow(() -> new MalformedFileException(where, "neither llama.vocab_size nor tokenizer.ggml.tokens")));
        double eps = file.metadata("llama.attention.layer_norm_rms_epsilon").map(GgufImport::decimal).orElse(DEFAULT_RMS_EPS);
        double theta = file.metadata("llama.rope.freq_base").map(GgufImport::decimal).orElse(DEFAULT_ROPE_THETA);
        return new LlamaConfig("llama", hidden, required(file, "llama.feed_forward_length"),
                required(file, "llama.block_count"), heads, kvHeads, headDim, vocab,
                required(file, "llama.context_length"), eps, theta, file.tensor("output.weight").isEmpty(), false,
                integer(file, "tokenizer.ggml.bos_token_id").orElse(-1),
                integer(file, "tokenizer.ggml.eos_token_id").orElse(-1));
    }

    /**
     * A FLOAT32 value as the decimal it was written from (1e-5 stored as float reads 9.99999975e-6): the shortest
     * decimal that rounds to the same float, so a config read back from GGUF equals the one exported.
     */
    static double decimal(GgufValue v) {
        return v.type() == GgufValueType.FLOAT32 ? Double.parseDouble(Float.toString((float) v.asDouble())) : v.asDouble();
    }

    private static int required(GgufFile file, String key) {
        return integer(file, key).orElseThrow(() -> new MalformedFileException(file.path().toString(), key + " is missing"));
    }

    private static Optional<Integer> integer(GgufFile file, String key) {
        Optional<GgufValue> v = file.metadata(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            long n = v.get().asLong();
            if (n < 0 || n > Integer.MAX_VALUE) {
                throw new MalformedFileException(file.path().toString(), key + " = " + n + " is out of range");
            }
            return Optional.of((int) n);
        } catch (IllegalStateException e) {
            throw new MalformedFileException(file.path().toString(), key + " is " + v.get().type() + ", not an integer");
        }
    }

    private static Optional<String> string(GgufFile file, String key) {
        return file.metadata(key).map(v -> {
            try {
                return v.asString();
            } catch (IllegalStateException e) {
                throw new MalformedFileException(file.path().toString(), key + " is " + v.type() + ", not a string");
            }
        });
    }
}
