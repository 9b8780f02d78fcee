package io.emend.serving.openai;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.completions.CompletionCreateParams;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import java.net.URL;
import org.junit.jupiter.api.Test;

/** Every kind of bad input gets OpenAI's error JSON with a 4xx status, and the official client reads it as such. */
@QuarkusTest
class BadInputTest {

    @TestHTTPResource("/v1")
    URL base;

    private static ValidatableResponse post(String path, String body) {
        return given().contentType(ContentType.JSON).body(body).when().post(path).then().contentType(ContentType.JSON);
    }

    private static void invalid(String body, String param, String messagePart) {
        post("/v1/completions", body).statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.param", equalTo(param))
                .body("error.message", containsString(messagePart));
    }

    @Test
    void unknownModelIs404() {
        post("/v1/completions", "{\"model\":\"no-such-model\",\"prompt\":\"hi\"}").statusCode(404)
                .body("error.code", equalTo("model_not_found"))
                .body("error.param", equalTo("model"))
                .body("error.message", containsString("no-such-model"));
        post("/v1/chat/completions", "{\"model\":\"stories260k@nowhere\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .statusCode(404).body("error.code", equalTo("model_not_found"));
        post("/v1/completions", "{\"model\":\"stories260k+no-adapter\",\"prompt\":\"hi\"}").statusCode(404)
                .body("error.message", containsString("no-adapter"));
        given().when().get("/v1/models/other").then().statusCode(404).body("error.code", equalTo("model_not_found"));
    }

    @Test
    void officialClientSeesTheErrors() {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(base.toString()).apiKey("x").maxRetries(0).build();
        try {
            NotFoundException missing = assertThrows(NotFoundException.class, () -> client.completions().create(
                    CompletionCreateParams.builder().model("missing").prompt("hi").build()));
            assertEquals(404, missing.statusCode());
            BadRequestException bad = assertThrows(BadRequestException.class, () -> client.completions().create(
                    CompletionCreateParams.builder().model("stories260k").prompt("hi").temperature(3.0).build()));
            assertEquals("temperature", bad.param().orElseThrow());
            assertEquals("invalid_request_error", bad.type().orElseThrow());
        } finally {
            client.close();
        }
    }

    @Test
    void promptLongerThanTheContextIs400() {
        String longPrompt = "Once upon a time there was a dog. ".repeat(120);
        post("/v1/completions", "{\"model\":\"stories260k\",\"prompt\":\"" + longPrompt + "\"}").statusCode(400)
                .body("error.code", equalTo("context_length_exceeded"))
                .body("error.param", equalTo("prompt"))
                .body("error.message", containsString("maximum context length is 512"));
        post("/v1/chat/completions", "{\"model\":\"stories260k\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + longPrompt + "\"}]}").statusCode(400).body("error.param", equalTo("messages"));
    }

    @Test
    void invalidParametersAre400NamingTheParameter() {
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"n\":2}", "n", "n = 1");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"temperature\":-1}", "temperature", "between 0 and 2");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"top_p\":0}", "top_p", "greater than 0");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"max_tokens\":0}", "max_tokens", "at least 1");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"logprobs\":6}", "logprobs", "between 0 and 5");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "stop", "at most 4");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"stop\":\"\"}", "stop", "non-empty");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"echo\":true}", "echo", "not supported");
        invalid("{\"model\":\"stories260k\",\"prompt\":\"hi\",\"presence_penalty\":0.5}", "presence_penalty", "not supported");
        invalid("{\"model\":\"stories260k\"}", "prompt", "required");
        invalid("{\"model\":\"stories260k\",\"prompt\":[\"a\",\"b\"]}", "prompt", "one prompt");
        invalid("{\"model\":\"stories260k\",\"prompt\":[1, 99999]}", "prompt", "outside the vocabulary");
        invalid("{\"model\":\"Bad Name!\",\"prompt\":\"hi\"}", "model", "not a model reference");
        invalid("{\"prompt\":\"hi\"}", "model", "must name a model");
        post("/v1/chat/completions", "{\"model\":\"stories260k\",\"messages\":[]}").statusCode(400)
                .body("error.param", equalTo("messages"));
        post("/v1/chat/completions", "{\"model\":\"stories260k\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}")
                .statusCode(400).body("error.param", equalTo("messages[0].role"));
        post("/v1/chat/completions", "{\"model\":\"stories260k\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"top_logprobs\":2}").statusCode(400).body("error.param", equalTo("top_logprobs"));
        post("/v1/chat/completions", "{\"model\":\"stories260k\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"logprobs\":true,\"top_logprobs\":6}").statusCode(400).body("error.param", equalTo("top_logprobs"));
    }

    @Test
    void malformedJsonIs400() {
        post("/v1/completions", "{\"model\":\"stories260k\",").statusCode(400)
                .body("error.type", equalTo("invalid_request_error"))
                .body("error.message", containsString("could not parse the JSON body"));
        post("/v1/completions", "{\"model\":\"stories260k\",\"prompt\":\"hi\",\"max_tokens\":\"many\"}").statusCode(400)
                .body("error.param", equalTo("max_tokens"));
        given().contentType(ContentType.TEXT).body("hello").when().post("/v1/completions").then().statusCode(415)
                .body("error.type", equalTo("invalid_request_error"));
        given().when().get("/v1/nothing-here").then().statusCode(404)
                .body("error.message", containsString("Unknown request URL")).body("error.code", nullValue());
    }
}
