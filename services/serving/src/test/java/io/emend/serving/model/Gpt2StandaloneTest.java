package io.emend.serving.model;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emend.serving.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A GPT-2 model served standalone (the tiny-gpt2 fixture, F32): the engine's GPT-2 path behind the OpenAI API. */
@QuarkusTest
@TestProfile(Gpt2StandaloneTest.Gpt2.class)
class Gpt2StandaloneTest {

    static Path dir() {
        return Fixtures.stories().resolveSibling("tiny-gpt2");
    }

    public static class Gpt2 implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("emend.serving.standalone.model-dir", dir().toAbsolutePath().toString(),
                    "emend.serving.quant", "f32");
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
}
