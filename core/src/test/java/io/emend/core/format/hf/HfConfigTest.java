package io.emend.core.format.hf;

import io.emend.core.format.Fixtures;
import io.emend.core.format.MalformedFileException;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfConfigTest {

    @Test
    void tinyLlama() throws IOException {
        ModelConfig c = HfConfig.read(Fixtures.model("tiny-llama").resolve("config.json"));
        assertEquals(new LlamaConfig("llama", 64, 160, 2, 4, 2, 16, 256, 128, 1e-5, 10000.0, false, false, 1, 2), c);
    }

    @Test
    void stories260k() throws IOException {
        LlamaConfig c = assertInstanceOf(LlamaConfig.class,
                HfConfig.read(Fixtures.model("stories260k").resolve("config.json")));
        assertEquals(new LlamaConfig("llama", 64, 172, 5, 8, 4, 8, 512, 512, 1e-5, 10000.0, true, false, 1, 2), c);
        assertEquals(2, c.groupSize());
    }

    @Test
    void tinyGpt2() throws IOException {
        ModelConfig c = HfConfig.read(Fixtures.model("tiny-gpt2").resolve("config.json"));
        assertEquals(new Gpt2Config(64, 2, 4, 256, 128, 1e-5, 256, 0, 0), c);
    }

    /** Shaped like Qwen2-0.5B's config.json: q/k/v biases, tied head, GQA, big rope_theta, eos as a list. */
    @Test
    void qwen2HasQkvBiases() {
        LlamaConfig c = assertInstanceOf(LlamaConfig.class, HfConfig.parse("""
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
                 "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                 "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768,
                 "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "hidden_act": "silu", "sliding_window": 32768,
                 "use_sliding_window": false, "max_window_layers": 21, "tie_word_embeddings": true,
                 "bos_token_id": 151643, "eos_token_id": [151643, 151645], "torch_dtype": "bfloat16"}
                """));
        assertTrue(c.qkvBias());
        assertFalse(c.outputBias(), "Qwen2's o_proj has no bias");
        assertEquals(64, c.headDim());
        assertEquals(7, c.groupSize());
        assertEquals(1e6, c.ropeTheta());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(151643, c.eosTokenId(), "first of the eos list");
    }

    @Test
    void llamaDefaultsFollowTransformers() {
        LlamaConfig c = assertInstanceOf(LlamaConfig.class, HfConfig.parse("""
                {"model_type": "llama", "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "vocab_size": 1000}
                """));
        assertEquals(4, c.numKvHeads(), "num_key_value_heads defaults to num_attention_heads");
        assertEquals(32, c.headDim(), "head_dim defaults to hidden_size / num_attention_heads");
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(2048, c.maxPositions());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.qkvBias());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
    }

    @Test
    void llamaAttentionBiasMeansAllFourProjections() {
        LlamaConfig c = assertInstanceOf(LlamaConfig.class, HfConfig.parse("""
                {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
                 "num_attention_heads": 4, "vocab_size": 100, "attention_bias": true, "rope_scaling": null,
                 "eos_token_id": null}
                """));
        assertTrue(c.qkvBias());
        assertTrue(c.outputBias());
        assertEquals(-1, c.eosTokenId(), "explicit null means no eos");
    }

    @Test
    void mistralSlidingWindowCapsTheContext() {
        LlamaConfig c = assertInstanceOf(LlamaConfig.class, HfConfig.parse("""
                {"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
                 "num_attention_heads": 4, "num_key_value_heads": 1, "vocab_size": 100,
                 "max_position_embeddings": 32768, "sliding_window": 4096}
                """));
        assertEquals(4096, c.maxPositions());
        assertFalse(c.qkvBias());
    }

    @Test
    void gpt2Defaults() {
        Gpt2Config c = assertInstanceOf(Gpt2Config.class, HfConfig.parse("""
                {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257,
                 "n_inner": null, "activation_function": "gelu_pytorch_tanh"}
                """));
        assertEquals(new Gpt2Config(768, 12, 12, 50257, 1024, 1e-5, 3072, 50256, 50256), c);
    }

    private static void assertRejected(String json, String... mentions) {
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> HfConfig.parse(json));
        assertTrue(e.getMessage().startsWith("config.json: "), e.getMessage());
        for (String m : mentions) {
            assertTrue(e.detail().contains(m), "'" + e.detail() + "' should mention '" + m + "'");
        }
    }

    private static final String LLAMA_BASE = "\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128,"
            + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"vocab_size\": 100";

    @Test
    void unknownArchitecture() {
        assertRejected("{\"model_type\": \"falcon\", \"hidden_size\": 64}", "model_type 'falcon' is not supported");
        assertRejected("{\"hidden_size\": 64}", "model_type: required field is missing");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}|rope_scaling: type 'llama3' is not implemented",
            "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}|rope_scaling: type 'linear'",
            "\"rope_parameters\": {\"rope_type\": \"yarn\"}|rope_parameters.rope_type: 'yarn'",
            "\"hidden_act\": \"gelu\"|hidden_act: 'gelu' is not supported",
            "\"mlp_bias\": true|mlp_bias",
            "\"num_key_value_heads\": 3|num_key_value_heads: 3 does not divide num_attention_heads 4",
            "\"rms_norm_eps\": \"small\"|rms_norm_eps: must be a positive number",
            "\"rope_theta\": -1|rope_theta: must be a positive number",
            "\"tie_word_embeddings\": \"yes\"|tie_word_embeddings: must be true or false",
            "\"head_dim\": 7|head_dim: 7 is odd",
            "\"eos_token_id\": \"</s>\"|eos_token_id: must be a non-negative integer"})
    void unsupportedLlamaOptions(String extra, String mention) {
        assertRejected("{" + LLAMA_BASE + ", " + extra + "}", mention);
    }

    @ParameterizedTest
    @CsvSource({"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"})
    void missingRequiredLlamaField(String field) {
        String json = "{" + LLAMA_BASE.replaceAll("\"" + field + "\": \\d+,? ?", "") + "}";
        json = json.replace(", }", "}");
        assertRejected(json, field + ": required field is missing");
    }

    @Test
    void wrongTypesNameTheField() {
        assertRejected("{\"model_type\": \"llama\", \"hidden_size\": 64.5}", "hidden_size: must be a positive integer");
        assertRejected("{\"model_type\": \"llama\", \"hidden_size\": 0}", "hidden_size: must be a positive integer");
        assertRejected("{\"model_type\": 7}", "model_type: must be a string");
        assertRejected("{\"model_type\": \"qwen2\", \"hidden_size\": 64, \"intermediate_size\": 128,"
                + " \"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"vocab_size\": 100,"
                + " \"use_sliding_window\": true}", "use_sliding_window: true is not implemented");
    }

    @Test
    void gpt2Rejections() {
        String base = "\"model_type\": \"gpt2\", \"n_embd\": 64, \"n_layer\": 1, \"n_head\": 4, \"vocab_size\": 100";
        assertRejected("{" + base + ", \"activation_function\": \"relu\"}", "activation_function: 'relu'");
        assertRejected("{" + base + ", \"tie_word_embeddings\": false}", "tie_word_embeddings: false");
        assertRejected("{" + base + ", \"scale_attn_by_inverse_layer_idx\": true}", "scale_attn_by_inverse_layer_idx");
        assertRejected("{\"model_type\": \"gpt2\", \"n_embd\": 64, \"n_layer\": 1, \"vocab_size\": 100}",
                "n_head: required field is missing");
        assertRejected("{" + base.replace("\"n_head\": 4", "\"n_head\": 5") + "}", "n_head: 5 does not divide n_embd 64");
    }

    @Test
    void invalidJson() {
        assertRejected("{\"model_type\": \"llama\",", "not valid JSON");
        assertRejected("[]", "must be a JSON object");
        assertRejected("{\"model_type\": \"llama\", \"model_type\": \"gpt2\"}", "not valid JSON", "Duplicate field");
    }
}
