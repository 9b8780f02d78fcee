package io.emend.merger.job;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.JobEvent;
import io.emend.merger.TinyLlama;
import io.emend.service.stack.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static io.emend.merger.MergerApi.artifact;
import static io.emend.merger.MergerApi.as;
import static io.emend.merger.MergerApi.awaitState;
import static io.emend.merger.MergerApi.importModel;
import static io.emend.merger.MergerApi.jobEvents;
import static io.emend.merger.MergerApi.registry;
import static io.emend.merger.MergerApi.registryGet;
import static io.emend.merger.MergerApi.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AdaMerging through the service, against the real registry, PostgreSQL and Kafka, on stories260k (a real language
 * model, tiny enough for a few Adam steps in a test): the base and two copies with known task vectors, +0.01 and
 * −0.02 on every weight, so the merged weights can be checked against the coefficients the job recorded.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdaMergingResourceTest {

    private static final float UP = 0.01f;
    private static final float DOWN = -0.02f;

    private String model;

    @BeforeAll
    void importInputs() throws IOException {
        model = unique("stories");
        Path dir = Files.createTempDirectory("stories");
        importModel(model, TinyLlama.shifted(TinyLlama.STORIES, dir.resolve("base"), 0).toAbsolutePath());
        importModel(model, TinyLlama.shifted(TinyLlama.STORIES, dir.resolve("up"), UP).toAbsolutePath());
        importModel(model, TinyLlama.shifted(TinyLlama.STORIES, dir.resolve("down"), DOWN).toAbsolutePath());
    }

    @Test
    void learnsTheCoefficientsOnATextFromTheObjectStoreAndRecordsThem() throws IOException {
        // the text is a trainer-style JSONL dataset in the object store the trainer's datasets land in
        List<String> stories = List.of(Files.readString(TinyLlama.STORIES.resolve("tinystories-valid.txt"))
                .split("\n\n")).subList(0, 12);
        StringBuilder jsonl = new StringBuilder();
        for (String story : stories) {
            jsonl.append(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(Map.of("text", story)))
                    .append('\n');
        }
        String key = "datasets/" + model + "/unlabeled.jsonl";
        Path objects = Path.of(ConfigProvider.getConfig().getValue("emend.merger.object-store.root", String.class));
        Files.createDirectories(objects.resolve(key).getParent());
        Files.writeString(objects.resolve(key), jsonl);

        String output = unique("ada");
        String id = as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: adamerging
                base_model: %s:1
                models:
                  - model: %s:2
                  - model: %s:3
                    parameters: {weight: 0.4}
                parameters:
                  granularity: task
                  steps: 4
                  lr: 0.05
                  text: %s
                  sequence_length: 32
                  batch_size: 4
                  sequences: 8
                  held_out: 0.25
                  eval_every: 2
                output:
                  model: %s
                """.formatted(model, model, model, key, output))
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded").body("version", equalTo(output + ":1"));

        List<Event<JobEvent>> events = jobEvents(id, EventTypes.JOB_SUCCEEDED);
        assertTrue(events.stream().anyMatch(e -> e.type().equals(EventTypes.JOB_PROGRESS)
                && e.data().message().startsWith("adamerging step 1 of 4")), events.toString());

        var version = registryGet("/v1/models/" + output + "/versions/1")
                .body("state", equalTo("ready"))
                .body("parents.find { it.number == 1 }.role", equalTo("base"))
                .body("parents.find { it.number == 2 }.role", equalTo("merged-from"))
                .body("parents.find { it.number == 3 }.role", equalTo("merged-from"))
                .body("recipe.learned.granularity", equalTo("task"))
                .body("recipe.learned.models[0].model", equalTo(model + ":2"))
                .body("recipe.learned.models[1].coefficients[0].initial", equalTo(0.4f))
                .extract();
        double up = version.<Number>path("recipe.learned.models[0].coefficients[0].learned").doubleValue();
        double down = version.<Number>path("recipe.learned.models[1].coefficients[0].learned").doubleValue();
        for (double lambda : new double[] {up, down}) {
            assertTrue(lambda >= 0 && lambda <= 1, "coefficients stay in [0, 1]: " + lambda);
        }
        int steps = version.<Number>path("metrics.adamerging_entropy.steps").intValue();
        assertTrue(steps >= 2 && steps <= 4, "steps taken " + steps);
        assertTrue(version.<Number>path("metrics.adamerging_entropy.held_out_after").doubleValue()
                <= version.<Number>path("metrics.adamerging_entropy.held_out_before").doubleValue());

        // every weight is base + λ_up · 0.01 + λ_down · (−0.02)
        Map<String, float[]> merged = TinyLlama.tensors(artifact(output, 1, "model.safetensors"));
        Map<String, float[]> base = TinyLlama.tensors(Files.readAllBytes(TinyLlama.STORIES.resolve("model.safetensors")));
        assertEquals(base.keySet(), merged.keySet());
        base.forEach((name, values) -> {
            for (int i = 0; i < values.length; i++) {
                // the deltas are formed in F32 from shifted F32 copies: a few ulps of weights below ~4
                double expected = values[i] + up * (double) UP + down * (double) DOWN;
                assertEquals(expected, merged.get(name)[i], 2e-6, name + "[" + i + "]");
            }
        });
    }

    @Test
    void inlineTextWorksToo() {
        String output = unique("ada-inline");
        String id = as(Tokens.writer()).body("""
                {"merge_method": "adamerging", "base_model": "%s:1", "models": [{"model": "%s:2"}],
                 "parameters": {"steps": 1, "held_out": 0, "sequence_length": 16, "sequences": 2,
                                "text": "data:,Once upon a time there was a cat.%%0A%%0AThe dog ran to the park."},
                 "output": {"model": "%s"}}
                """.formatted(model, model, output))
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded");
        registryGet("/v1/models/" + output + "/versions/1").body("metrics.adamerging_entropy.steps", equalTo(1));
    }

    // ---- bad input: a problem document, and nothing reaches the registry ----

    @Test
    void textsThatAreNotReferencesOrNameNothingAreRejected() {
        String output = unique("ada-bad");
        rejected(output, "/etc/passwd", 400, "not sha256:<hex>, a data: URL or a valid object-store key");
        rejected(output, "sha256:abc", 400, "64 hex digits");
        rejected(output, "datasets/nobody/nothing.txt", 422, "no such object in the object store");
        rejected(output, "sha256:" + "0".repeat(64), 422, "cannot be read from the registry");
        given().auth().oauth2(Tokens.reader()).get(registry() + "/v1/models/{m}", output).then().statusCode(404);
    }

    @Test
    void aTextOverTheLimitIsRejected() throws IOException {
        String key = "datasets/" + unique("big") + "/text.txt";
        Path file = Path.of(ConfigProvider.getConfig().getValue("emend.merger.object-store.root", String.class))
                .resolve(key);
        Files.createDirectories(file.getParent());
        long limit = ConfigProvider.getConfig().getValue("emend.merger.limits.max-text-bytes", Long.class);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            // sparse: the size is what the check reads, so no bytes need writing
            f.setLength(limit + 1);
        }
        String output = unique("ada-big");
        rejected(output, key, 400, "over this merger's limit of " + limit + " bytes");
        given().auth().oauth2(Tokens.reader()).get(registry() + "/v1/models/{m}", output).then().statusCode(404);
    }

    @Test
    void searchSettingsOutOfRangeAndAMissingBaseAreRejected() {
        String output = unique("ada-range");
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: adamerging
                base_model: %s:1
                models:
                  - model: %s:2
                parameters: {text: "data:,hello", held_out: 1.5}
                output: {model: %s}
                """.formatted(model, model, output))
                .post("/v1/merges").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("held_out")).body("errors[0].field", equalTo("parameters"));
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: adamerging
                models:
                  - model: %s:2
                parameters: {text: "data:,hello"}
                output: {model: %s}
                """.formatted(model, output))
                .post("/v1/merges").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("base_model"));
        given().auth().oauth2(Tokens.reader()).get(registry() + "/v1/models/{m}", output).then().statusCode(404);
    }

    private void rejected(String output, String text, int status, String detail) {
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: adamerging
                base_model: %s:1
                models:
                  - model: %s:2
                parameters: {text: "%s"}
                output: {model: %s}
                """.formatted(model, model, text, output))
                .post("/v1/merges").then().statusCode(status).contentType("application/problem+json")
                .body("detail", containsString(detail)).body("errors[0].field", equalTo("parameters.text"));
    }
}
