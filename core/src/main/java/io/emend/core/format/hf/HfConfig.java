package io.emend.core.format.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Hugging Face {@code config.json} to a typed {@link ModelConfig}. Untyped JSON stops here.
 *
 * <p>Absent optional fields take the defaults of the matching {@code transformers} config class
 * ({@code LlamaConfig}, {@code MistralConfig}, {@code Qwen2Config}, {@code GPT2Config}). The sizes that define
 * the network (width, depth, heads, vocabulary) are required: transformers' defaults for them describe a 7B model
 * or GPT-2 small, and silently assuming those for a config that lacks them would load the wrong shapes.
 * Options Emend does not implement (RoPE scaling, other activations, sliding-window attention below the context
 * length, Llama MLP biases) are rejected with a message naming the field, never ignored.
 */
public final class HfConfig {

    /** The {@code model_type} values of the Llama family. */
    public static final Set<String> LLAMA_FAMILY = Set.of("llama", "mistral", "qwen2");
    /** GPT-2's activations: both are the tanh approximation of GELU. */
    public static final Set<String> GPT2_ACTIVATIONS = Set.of("gelu_new", "gelu_pytorch_tanh");

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private HfConfig() {
    }

    /** Reads a {@code config.json} file. */
    public static ModelConfig read(Path configJson) throws IOException {
        return parse(configJson.toString(), Files.readString(configJson));
    }

    /** Parses config.json text; errors name it as {@code config.json}. */
    public static ModelConfig parse(String json) {
        return parse("config.json", json);
    }

    /** Parses config.json text; {@code source} names it in error messages. */
    public static ModelConfig parse(String source, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(source, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedFileException(source, "must be a JSON object");
        }
        Fields f = new Fields(source, root);
        String modelType = f.requiredString("model_type");
        if (LLAMA_FAMILY.contains(modelType)) {
            return llama(f, modelType);
        }
        if (modelType.equals("gpt2")) {
            return gpt2(f);
        }
        throw new MalformedFileException(source, "model_type '" + modelType
                + "' is not supported (supported: gpt2, llama, mistral, qwen2)");
    }

    private static LlamaConfig llama(Fields f, String modelType) {
        int hidden = f.requiredPositiveInt("hidden_size");
        int intermediate = f.requiredPositiveInt("intermediate_size");
        int layers = f.requiredPositiveInt("num_hidden_layers");
        int heads = f.requiredPositiveInt("num_attention_heads");
        int vocab = f.requiredPositiveInt("vocab_size");
        int kvHeads = f.optionalPositiveInt("num_key_value_heads", heads);
        if (heads % kvHeads != 0) {
            throw f.error("num_key_value_heads", kvHeads + " does not divide num_attention_heads " + heads);
        }
        int headDim;
        if (f.present("head_dim")) {
            headDim = f.requiredPositiveInt("head_dim");
        } else {
            if (hidden % heads != 0) {
                throw f.error("num_attention_heads", heads + " does not divide hidden_size " + hidden
                        + " and head_dim is not given");
            }
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0) {
            throw f.error("head_dim", headDim + " is odd; RoPE rotates pairs of dimensions");
        }
        int defaultPositions = switch (modelType) {
            case "mistral" -> 4096 * 32;
            case "qwen2" -> 32768;
            default -> 2048;
        };
        int maxPositions = f.optionalPositiveInt("max_position_embeddings", defaultPositions);
        String act = f.optionalString("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw f.error("hidden_act", "'" + act + "' is not supported for " + modelType + " (only silu)");
        }
        double ropeTheta = ropeTheta(f);
        rejectRopeScaling(f);
        boolean qkvBias = switch (modelType) {
            case "qwen2" -> true;
            // MistralAttention has no biases; transformers ignores attention_bias for it, and so do we.
            case "mistral" -> false;
            default -> f.optionalBoolean("attention_bias", false);
        };
        if (modelType.equals("llama") && f.optionalBoolean("mlp_bias", false)) {
            throw f.error("mlp_bias", "true is not supported (MLP projections without biases only)");
        }
        maxPositions = limitBySlidingWindow(f, modelType, maxPositions);
        // transformers' LlamaConfig and MistralConfig default to bos 1 / eos 2; Qwen2Config has no default.
        int defaultBos = modelType.equals("qwen2") ? -1 : 1;
        int defaultEos = modelType.equals("qwen2") ? -1 : 2;
        return new LlamaConfig(modelType, hidden, intermediate, layers, heads, kvHeads, headDim, vocab, maxPositions,
                f.optionalPositiveDouble("rms_norm_eps", 1e-6), ropeTheta,
                f.optionalBoolean("tie_word_embeddings", false), qkvBias,
                f.tokenId("bos_token_id", defaultBos), f.tokenId("eos_token_id", defaultEos));
    }

    /** rope_theta, or (transformers 5) rope_parameters.rope_theta with the default rope type. */
    private static double ropeTheta(Fields f) {
        if (f.present("rope_parameters")) {
            JsonNode p = f.node("rope_parameters");
            if (!p.isObject()) {
                throw f.error("rope_parameters", "must be an object");
            }
            JsonNode type = p.get("rope_type");
            if (type != null && !type.isNull() && !type.asText().equals("default")) {
                throw f.error("rope_parameters.rope_type", "'" + type.asText()
                        + "' is not implemented (only default RoPE)");
            }
            JsonNode theta = p.get("rope_theta");
            if (theta != null && !theta.isNull()) {
                if (!theta.isNumber() || theta.doubleValue() <= 0) {
                    throw f.error("rope_parameters.rope_theta", "must be a positive number");
                }
                return theta.doubleValue();
            }
        }
        return f.optionalPositiveDouble("rope_theta", 10000.0);
    }

    /** rope_scaling changes the frequencies (linear, dynamic, yarn, llama3, ...); only its absence is implemented. */
    private static void rejectRopeScaling(Fields f) {
        if (!f.present("rope_scaling")) {
            return;
        }
        JsonNode s = f.node("rope_scaling");
        String type = s.isObject() ? s.path("rope_type").asText(s.path("type").asText("")) : "";
        if (!type.equals("default")) {
            throw f.error("rope_scaling", (type.isEmpty() ? s.toString() : "type '" + type + "'")
                    + " is not implemented (only unscaled RoPE)");
        }
    }

    /**
     * Sliding-window attention equals full attention while the sequence fits in the window, so a Mistral window
     * caps the usable context instead of being rejected. Qwen2 applies its window only with use_sliding_window.
     */
    private static int limitBySlidingWindow(Fields f, String modelType, int maxPositions) {
        if (modelType.equals("qwen2")) {
            if (f.optionalBoolean("use_sliding_window", false)) {
                throw f.error("use_sliding_window", "true is not implemented (full attention only)");
            }
            return maxPositions;
        }
        if (modelType.equals("mistral") && f.present("sliding_window")) {
            return Math.min(maxPositions, f.requiredPositiveInt("sliding_window"));
        }
        return maxPositions;
    }

    private static Gpt2Config gpt2(Fields f) {
        int hidden = f.requiredPositiveInt("n_embd");
        int layers = f.requiredPositiveInt("n_layer");
        int heads = f.requiredPositiveInt("n_head");
        int vocab = f.requiredPositiveInt("vocab_size");
        if (hidden % heads != 0) {
            throw f.error("n_head", heads + " does not divide n_embd " + hidden);
        }
        String act = f.optionalString("activation_function", "gelu_new");
        if (!GPT2_ACTIVATIONS.contains(act)) {
            throw f.error("activation_function", "'" + act + "' is not supported (gelu_new or gelu_pytorch_tanh)");
        }
        if (!f.optionalBoolean("tie_word_embeddings", true)) {
            throw f.error("tie_word_embeddings", "false is not supported for gpt2 (the head is wte)");
        }
        if (!f.optionalBoolean("scale_attn_weights", true)) {
            throw f.error("scale_attn_weights", "false is not supported (scores are scaled by 1/sqrt(head_dim))");
        }
        if (f.optionalBoolean("scale_attn_by_inverse_layer_idx", false)) {
            throw f.error("scale_attn_by_inverse_layer_idx", "true is not supported");
        }
        if (f.optionalBoolean("add_cross_attention", false)) {
            throw f.error("add_cross_attention", "true is not supported (decoder-only)");
        }
        int inner = f.present("n_inner") ? f.requiredPositiveInt("n_inner") : 4 * hidden;
        return new Gpt2Config(hidden, layers, heads, vocab, f.optionalPositiveInt("n_positions", 1024),
                f.optionalPositiveDouble("layer_norm_epsilon", 1e-5), inner,
                f.tokenId("bos_token_id", 50256), f.tokenId("eos_token_id", 50256));
    }

    /** Typed access to one config object; every error names the field. A JSON null counts as absent. */
    private record Fields(String source, JsonNode root) {

        boolean present(String name) {
            JsonNode n = root.get(name);
            return n != null && !n.isNull();
        }

        JsonNode node(String name) {
            return root.get(name);
        }

        MalformedFileException error(String field, String what) {
            return new MalformedFileException(source, field + ": " + what);
        }

        String requiredString(String name) {
            if (!present(name)) {
                throw error(name, "required field is missing");
            }
            JsonNode n = root.get(name);
            if (!n.isTextual()) {
                throw error(name, "must be a string, not " + n);
            }
            return n.textValue();
        }

        String optionalString(String name, String fallback) {
            return present(name) ? requiredString(name) : fallback;
        }

        int requiredPositiveInt(String name) {
            if (!present(name)) {
                throw error(name, "required field is missing");
            }
            JsonNode n = root.get(name);
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() <= 0) {
                throw error(name, "must be a positive integer, not " + n);
            }
            return n.intValue();
        }

        int optionalPositiveInt(String name, int fallback) {
            return present(name) ? requiredPositiveInt(name) : fallback;
        }

        double optionalPositiveDouble(String name, double fallback) {
            if (!present(name)) {
                return fallback;
            }
            JsonNode n = root.get(name);
            if (!n.isNumber() || !(n.doubleValue() > 0) || Double.isInfinite(n.doubleValue())) {
                throw error(name, "must be a positive number, not " + n);
            }
            return n.doubleValue();
        }

        boolean optionalBoolean(String name, boolean fallback) {
            if (!present(name)) {
                return fallback;
            }
            JsonNode n = root.get(name);
            if (!n.isBoolean()) {
                throw error(name, "must be true or false, not " + n);
            }
            return n.booleanValue();
        }

        /** A token id: an integer, or a list of integers of which the first is used (as generation does); -1 = none. */
        int tokenId(String name, int fallback) {
            if (!root.has(name)) {
                return fallback;
            }
            JsonNode n = root.get(name);
            if (n.isNull()) {
                return -1;
            }
            if (n.isArray()) {
                if (n.isEmpty()) {
                    return -1;
                }
                n = n.get(0);
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
                throw error(name, "must be a non-negative integer or a list of them, not " + root.get(name));
            }
            return n.intValue();
        }
    }
}
