package io.emend.serving.model;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.emend.core.delta.LoraDelta;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.serving.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A GPT-2 model served standalone (the tiny-gpt2 fixture, F32): the engine's GPT-2 path behind the OpenAI API, with
 * per-request LoRA adapters.
 */
@QuarkusTest
@TestProfile(Gpt2StandaloneTest.Gpt2.class)
class Gpt2StandaloneTest {

    static final Path ADAPTER = Path.of("target", "test-adapters", "gpt2-lora");

    static Path dir() {
        return Fixtures.stories().resolveSibling("tiny-gpt2");
    }

    public static class Gpt2 implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("emend.serving.standalone.model-dir", dir().toAbsolutePath().toString(),
                    "emend.serving.quant", "f32",
                    "emend.serving.standalone.adapters.gpt2-lora", ADAPTER.toAbsolutePath().toString());
        }
    }

    @Test
    void greedyCompletionIsTheEnginesGreedyGeneration() {
        String prompt = "Hello, world";
        String text = given().contentType("application/json")
                .body(Map.of("model", "tiny-gpt2", "prompt", prompt, "max_tokens", 12, "temperature", 0))
                .post("/v1/completions")
                .then().statusCode(200).body("model", equalTo("tiny-gpt2"))
                .extract().path("choices[0].text");
        assertEquals(Fixtures.greedy(dir(), Fixtures.encode(dir(), prompt), 12, null), text);
    }

    /**
     * A PEFT LoRA adapter on GPT-2's Conv1D modules (fused c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj; PEFT's
     * fan_in_fan_out), served per request: the engine's greedy text with that adapter, which core's Gpt2AdapterTest
     * checks against the differentiable graph.
     */
    @Test
    void aLoraAdapterOnConv1dModulesAppliesPerRequest() throws Exception {
        Random random = new Random(3);
        List<LoraDelta> deltas = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            String p = "transformer.h." + l + ".";
            deltas.add(AdapterRequestTest.delta(random, p + "attn.c_attn", 64, 192));
            deltas.add(AdapterRequestTest.delta(random, p + "attn.c_proj", 64, 64));
            deltas.add(AdapterRequestTest.delta(random, p + "mlp.c_fc", 64, 256));
            deltas.add(AdapterRequestTest.delta(random, p + "mlp.c_proj", 256, 64));
        }
        var raw = JsonNodeFactory.instance.objectNode();
        raw.put("peft_type", "LORA").put("r", 4).put("lora_alpha", 8.0).put("fan_in_fan_out", true);
        raw.putArray("target_modules").add("c_attn").add("c_proj").add("c_fc");
        LoraAdapter lora = new LoraAdapter(new PeftAdapterConfig(4, 8.0, List.of("c_attn", "c_proj", "c_fc"), false,
                Optional.empty(), raw), deltas);
        lora.write(ADAPTER);

        String prompt = "Hello, world";
        int[] ids = Fixtures.encode(dir(), prompt);
        String plain = Fixtures.greedy(dir(), ids, 12, null);
        String adapted = Fixtures.greedy(dir(), ids, 12, AdapterCatalog.toEngine("gpt2-lora", lora));
        assertNotEquals(plain, adapted, "the adapter changes the greedy text");
        for (String model : List.of("tiny-gpt2+gpt2-lora", "tiny-gpt2")) {
            String text = given().contentType("application/json")
                    .body(Map.of("model", model, "prompt", prompt, "max_tokens", 12, "temperature", 0))
                    .post("/v1/completions").then().statusCode(200).extract().path("choices[0].text");
            assertEquals(model.contains("+") ? adapted : plain, text, model);
        }
    }
}
