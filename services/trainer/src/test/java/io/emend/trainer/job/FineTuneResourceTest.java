package io.emend.trainer.job;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.JobEvent;
import io.emend.contracts.store.StoredObject;
import io.emend.service.job.JobState;
import io.emend.service.stack.Tokens;
import io.emend.trainer.TrainerFixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static io.emend.trainer.TrainerApi.as;
import static io.emend.trainer.TrainerApi.awaitState;
import static io.emend.trainer.TrainerApi.awaitStep;
import static io.emend.trainer.TrainerApi.importModel;
import static io.emend.trainer.TrainerApi.jobEvents;
import static io.emend.trainer.TrainerApi.moveAlias;
import static io.emend.trainer.TrainerApi.registryGet;
import static io.emend.trainer.TrainerApi.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tunes over REST against the real registry (child process), PostgreSQL and Kafka: stories260k is imported once,
 * WikiText JSONL goes into the object store, and each test fine-tunes for a few steps and checks the job, its
 * checkpoints and events, and the registry version it made.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FineTuneResourceTest {

    @Inject
    TrainingJobRepository jobs;
    @Inject
    JobRunner runner;

    private String model;
    private StoredObject train;
    private String heldOut;

    @BeforeAll
    void importParent() throws IOException {
        model = unique("stories");
        importModel(model, TrainerFixtures.STORIES);
        train = TrainerFixtures.putObject("datasets/" + model + "/wiki-train.jsonl", TrainerFixtures.wikiJsonl(0, 40));
        heldOut = "datasets/" + model + "/wiki-valid.jsonl";
        TrainerFixtures.putObject(heldOut, TrainerFixtures.wikiJsonl(40, 8));
    }

    /** A small LoRA run: {@code steps} steps of 2 rows of 32 tokens at 25 times the base rate. */
    private String request(String output, int steps, String extra) {
        return request(output, steps, 2, extra);
    }

    private String request(String output, int steps, int checkpointEvery, String extra) {
        return """
                {"model": "%s:1", "training_file": "%s", "validation_file": "%s", "method": "lora",
                 "hyperparameters": {"steps": %d, "batch_size": 2, "seq_len": 32, "learning_rate_multiplier": 25,
                                     "checkpoint_every": %d},
                 "lora": {"rank": 4, "alpha": 8},
                 "output": {"model": "%s", "alias": "production"}%s}
                """.formatted(model, train.key(), heldOut, steps, checkpointEvery, output, extra);
    }

    @Test
    void loraFineTuneBecomesAReadyAdapterVersionWithLineageMetricsAndAlias() throws IOException {
        String output = unique("tuned");
        String probes = "datasets/" + output + "/probes.jsonl";
        TrainerFixtures.putObject(probes,
                "{\"prompt\": \"Once upon a time, there was a little\", \"completion\": \" girl\"}\n"
                + "{\"prompt\": \"Tom and Sue went to the\", \"completion\": \" park\"}\n"
                + "{\"prompt\": \"The sun was\", \"completion\": \" shining\"}\n");
        String id = as(Tokens.writer()).body(request(output, 6, ", \"gate\": {\"probe_file\": \"" + probes
                        + "\", \"max_negative_flips\": 3}")).post("/v1/fine-tunes")
                .then().statusCode(202)
                .header("Location", containsString("/v1/fine-tunes/"))
                .body("object", equalTo("fine_tuning.job"))
                .body("status", equalTo("validating_files"))
                .body("parent", equalTo(model + ":1"))
                .body("hyperparameters.n_epochs", equalTo(1))
                .extract().path("id");

        // the SSE stream ends when the job ends; its last event is the final state
        String stream = as(Tokens.reader()).accept("text/event-stream").get("/v1/fine-tunes/{id}/events", id)
                .then().statusCode(200).extract().asString();
        List<String> data = stream.lines().filter(l -> l.startsWith("data:")).toList();
        assertTrue(data.getLast().contains("\"status\":\"succeeded\""), stream);

        awaitState(id, "succeeded")
                .body("fine_tuned_model", equalTo(output + ":1"))
                .body("progress", equalTo(1.0f))
                .body("step", equalTo(6))
                .body("files.find { it.role == 'training' }.sha256", equalTo(train.sha256().orElseThrow()))
                .body("files.find { it.role == 'training' }.examples", equalTo(40))
                .body("result.metrics.steps", equalTo(6))
                .body("result.gate.passed", equalTo(true))
                .body("result.gate.figures.probes", equalTo(3))
                .body("result.gate.figures.negative_flips", notNullValue())
                .body("files.find { it.role == 'probe' }.examples", equalTo(3))
                .body("result.alias_moved", equalTo(true))
                // WikiText is new to stories260k: six LoRA steps must lower the held-out perplexity
                .body("result.gate.figures.held_out_perplexity_after",
                        lessThan(((Number) as(Tokens.reader()).get("/v1/fine-tunes/{id}", id).path(
                                "result.gate.figures.held_out_perplexity_before")).floatValue()));

        registryGet("/v1/models/" + output + "/versions/1")
                .body("state", equalTo("ready"))
                .body("operation", equalTo("finetune"))
                .body("parents.size()", equalTo(1))
                .body("parents[0].model", equalTo(model))
                .body("parents[0].number", equalTo(1))
                .body("parents[0].role", equalTo("adapter-of"))
                .body("recipe.parent", equalTo(model + ":1"))
                .body("recipe.data.sha256", hasItem(train.sha256().orElseThrow()))
                .body("recipe.request.lora.rank", equalTo(4))
                .body("metrics.training.train_loss", notNullValue())
                .body("metrics.gate.passed", equalTo(true))
                .body("manifest.path", hasItems("adapter_config.json", "adapter_model.safetensors"));
        registryGet("/v1/models/" + output + "/aliases/production").body("version", equalTo(1));
        registryGet("/v1/models/" + output + "/versions/1/artifacts/adapter_config.json")
                .body("peft_type", equalTo("LORA")).body("r", equalTo(4));

        as(Tokens.reader()).get("/v1/fine-tunes/{id}/checkpoints", id).then().statusCode(200)
                .body("object", equalTo("list"))
                .body("data.step_number", equalTo(List.of(6, 4, 2)))
                .body("data.train_loss", everyItem(greaterThan(0f)))
                .body("data.validation_loss", everyItem(greaterThan(0f)));
        as(Tokens.reader()).get("/v1/fine-tunes/{id}/events", id).then().statusCode(200)
                .body("data.type", hasItems("message", "metrics"))
                .body("data.message", hasItem(containsString("files validated")))
                .body("data.message", hasItem(containsString("gate passed")))
                .body("data.message", hasItem(containsString("succeeded: fine-tuned into " + output + ":1")));
        as(Tokens.reader()).get("/v1/fine-tunes").then().statusCode(200).body("data.id", hasItem(id));

        List<Event<JobEvent>> events = jobEvents(id, EventTypes.JOB_SUCCEEDED);
        List<String> types = events.stream().map(Event::type).toList();
        assertEquals(EventTypes.JOB_QUEUED, types.getFirst(), types.toString());
        assertEquals("validating_files", events.getFirst().data().state());
        assertTrue(types.contains(EventTypes.JOB_STARTED), types.toString());
        assertTrue(types.contains(EventTypes.JOB_PROGRESS), types.toString());
        assertEquals(EventTypes.JOB_SUCCEEDED, types.getLast(), types.toString());
        events.forEach(e -> {
            assertEquals(output, e.data().model());
            assertEquals("finetune", e.data().kind());
            assertEquals(Event.TRAINER, e.source());
        });
    }

    @Test
    void doraWritesADoraAdapterAndFullFineTuningAWholeModel() {
        String dora = unique("dora");
        String doraJob = submit("""
                {"model": "%s:1", "training_file": "%s", "method": "dora",
                 "hyperparameters": {"steps": 2, "batch_size": 2, "seq_len": 32},
                 "lora": {"rank": 2, "target_modules": ["q_proj", "v_proj"]}, "output": {"model": "%s"}}
                """.formatted(model, train.key(), dora));
        String full = unique("full");
        String fullJob = submit("""
                {"model": "%s:1", "training_file": "%s", "method": "full",
                 "hyperparameters": {"steps": 2, "batch_size": 2, "seq_len": 32}, "output": {"model": "%s"}}
                """.formatted(model, train.key(), full));
        awaitState(doraJob, "succeeded");
        registryGet("/v1/models/" + dora + "/versions/1/artifacts/adapter_config.json")
                .body("use_dora", equalTo(true))
                .body("target_modules", hasItems("q_proj", "v_proj"));
        awaitState(fullJob, "succeeded");
        // a full fine-tune is a whole model: its parent is its base, not something it is an adapter of
        registryGet("/v1/models/" + full + "/versions/1")
                .body("parents[0].role", equalTo("base"))
                .body("manifest.path", hasItems("config.json", "tokenizer.json", "model.safetensors"));
    }

    @Test
    void aFailedGateLeavesTheAliasWhereItWas() {
        String output = unique("strict");
        importModel(output, TrainerFixtures.STORIES);
        moveAlias(output, "production", 1);
        // perplexity cannot halve in two steps: the gate fails, the version is made but not promoted
        String body = """
                {"model": "%s:1", "training_file": "%s", "validation_file": "%s",
                 "hyperparameters": {"steps": 2, "batch_size": 2, "seq_len": 32},
                 "gate": {"max_held_out_ratio": 0.5},
                 "output": {"alias": "production"}}
                """.formatted(output, train.key(), heldOut);
        String id = as(Tokens.writer()).body(body).post("/v1/fine-tunes").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded")
                .body("fine_tuned_model", equalTo(output + ":2"))
                .body("result.gate.passed", equalTo(false))
                .body("result.alias_moved", equalTo(false))
                .body("result.gate.reasons[0]", containsString("held-out perplexity"))
                .body("message", containsString("gate failed, " + output + "@production was left where it was"));
        registryGet("/v1/models/" + output + "/aliases/production").body("version", equalTo(1));
        registryGet("/v1/models/" + output + "/versions/2").body("state", equalTo("ready"))
                .body("metrics.gate.passed", equalTo(false));
    }

    @Test
    void pauseCheckpointsAndResumeContinuesFromThere() {
        String output = unique("paused");
        String id = as(Tokens.writer()).body(request(output, 60, 25, "")).post("/v1/fine-tunes")
                .then().statusCode(202).extract().path("id");
        awaitStep(id, 2);
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/pause", id).then().statusCode(200);
        int pausedAt = awaitState(id, "paused").body("message", containsString("paused at step"))
                .extract().path("step");
        assertTrue(pausedAt >= 2 && pausedAt < 60, "paused at " + pausedAt);
        as(Tokens.reader()).get("/v1/fine-tunes/{id}/checkpoints", id).then()
                .body("data[0].step_number", equalTo(pausedAt));
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/pause", id).then().statusCode(409)
                .contentType("application/problem+json");

        as(Tokens.writer()).post("/v1/fine-tunes/{id}/resume", id).then().statusCode(200)
                .body("status", equalTo("queued"));
        awaitState(id, "succeeded").body("step", equalTo(60)).body("fine_tuned_model", equalTo(output + ":1"));
        as(Tokens.reader()).get("/v1/fine-tunes/{id}/events", id).then()
                .body("data.message", hasItem("resumed from the checkpoint at step " + pausedAt + " of 60"));
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/resume", id).then().statusCode(409);
    }

    @Test
    void aJobCutOffByARestartResumesFromItsCheckpoint() {
        String output = unique("restarted");
        String id = as(Tokens.writer()).body(request(output, 60, 25, "")).post("/v1/fine-tunes")
                .then().statusCode(202).extract().path("id");
        awaitStep(id, 2);
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/pause", id).then().statusCode(200);
        int checkpoint = awaitState(id, "paused").extract().path("step");
        // as a process that took the job and then died would leave it: running in the table, nobody running it
        assertTrue(jobs.transition(id, JobState.PAUSED, JobState.QUEUED, 0.1, "queued"));
        assertTrue(jobs.transition(id, JobState.QUEUED, JobState.RUNNING, 0.1, "running"));

        runner.recover();

        awaitState(id, "succeeded").body("step", equalTo(60));
        as(Tokens.reader()).get("/v1/fine-tunes/{id}/events", id).then()
                .body("data.message", hasItem(containsString("the trainer stopped while this job was running")))
                .body("data.message", hasItem("resumed from the checkpoint at step " + checkpoint + " of 60"));
    }

    @Test
    void aRunningJobIsCancelledAtItsNextStep() {
        String output = unique("cancelled");
        String id = as(Tokens.writer()).body(request(output, 400, "")).post("/v1/fine-tunes")
                .then().statusCode(202).extract().path("id");
        awaitStep(id, 1);
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/cancel", id).then().statusCode(200);
        awaitState(id, "cancelled");
        given().auth().oauth2(Tokens.reader()).get(TrainerApiRegistry.models(output)).then().statusCode(404);
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/cancel", id).then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString("cannot be cancelled"));
        jobEvents(id, EventTypes.JOB_CANCELLED);
    }

    // ---- bad data: the job fails at validating_files with the reason ----

    @Test
    void malformedJsonlFailsValidationWithItsLineNumber() throws IOException {
        String key = "datasets/" + unique("bad") + ".jsonl";
        TrainerFixtures.putObject(key, "{\"text\": \"fine\"}\n{\"text\": \"also fine\"}\n{\"text\": oops}\n");
        String id = submit("{\"model\": \"" + model + ":1\", \"training_file\": \"" + key + "\"}");
        awaitState(id, "failed").body("message", containsString("training_file '" + key + "': line 3"))
                .body("error.message", containsString("line 3"));
    }

    @Test
    void unknownTargetModuleFailsValidationListingTheValidOnes() {
        String id = submit("{\"model\": \"" + model + ":1\", \"training_file\": \"" + train.key()
                + "\", \"lora\": {\"target_modules\": [\"q_proj\", \"qkv\"]}}");
        awaitState(id, "failed").body("message", containsString("target module 'qkv'"))
                .body("message", containsString("q_proj"));
    }

    @Test
    void aDatasetOverTheSizeLimitFailsValidation() throws IOException {
        String key = "datasets/" + unique("huge") + ".jsonl";
        // %test.emend.trainer.limits.max-dataset-bytes is 200000
        TrainerFixtures.putObject(key, "{\"text\": \"" + "a".repeat(210_000) + "\"}\n");
        String id = submit("{\"model\": \"" + model + ":1\", \"training_file\": \"" + key + "\"}");
        awaitState(id, "failed").body("message", containsString("over this trainer's limit of 200000 bytes"));
    }

    @Test
    void aMissingObjectFailsValidation() {
        String id = submit("{\"model\": \"" + model + ":1\", \"training_file\": \"datasets/none/here.jsonl\"}");
        awaitState(id, "failed").body("message", containsString("no such object in the object store"));
    }

    @Test
    void aLossThatTurnsNanFailsTheJobWithTheStep() {
        // a learning rate of 2e20: the first update makes the adapter's entries ~1e20, their product overflows F32
        String id = submit("{\"model\": \"" + model + ":1\", \"training_file\": \"" + train.key()
                + "\", \"hyperparameters\": {\"steps\": 5, \"batch_size\": 2, \"seq_len\": 32,"
                + " \"learning_rate_multiplier\": 1e24}}");
        awaitState(id, "failed").body("message", containsString("training diverged at step"))
                .body("message", containsString("lower the learning rate"));
        as(Tokens.reader()).get("/v1/fine-tunes/{id}/events", id).then()
                .body("data.level", hasItem("error"));
    }

    @Test
    void nanWeightsInTheParentFailValidation() throws IOException {
        String broken = unique("nan");
        importModel(broken, TrainerFixtures.storiesWithNaN(Files.createTempDirectory("nan").resolve("model")));
        String id = submit("{\"model\": \"" + broken + ":1\", \"training_file\": \"" + train.key() + "\"}");
        awaitState(id, "failed").body("message", containsString("model.norm.weight contains NaN"));
        given().auth().oauth2(Tokens.reader()).get(TrainerApiRegistry.versions(broken)).then().statusCode(200)
                .body("items.size()", equalTo(1));
    }

    // ---- bad requests: a problem document, no job ----

    @Test
    void malformedJsonIsRejected() {
        as(Tokens.writer()).body("{\"model\": \"x\",\n \"training_file\": ").post("/v1/fine-tunes").then()
                .statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("not valid JSON")).body("errors[0].field", equalTo("body"));
    }

    @Test
    void unknownFieldsAreRejectedNamingTheValidOnes() {
        as(Tokens.writer()).body("{\"model\": \"" + model + ":1\", \"training_file\": \"a.jsonl\", \"epochs\": 3}")
                .post("/v1/fine-tunes").then().statusCode(400)
                .body("errors[0].field", equalTo("epochs"))
                .body("detail", containsString("hyperparameters"));
        as(Tokens.writer()).body("{\"model\": \"" + model + ":1\", \"training_file\": \"a.jsonl\","
                        + " \"hyperparameters\": {\"n_epoch\": 3}}")
                .post("/v1/fine-tunes").then().statusCode(400)
                .body("errors[0].field", equalTo("hyperparameters.n_epoch"))
                .body("detail", containsString("n_epochs"));
    }

    @Test
    void badValuesNameTheirField() {
        String base = "{\"model\": \"" + model + ":1\", \"training_file\": \"a.jsonl\"";
        expectField(base + ", \"method\": \"qlora\"}", "method", "valid methods: lora, dora, full");
        expectField(base + ", \"hyperparameters\": {\"batch_size\": 0}}", "hyperparameters.batch_size", "at least 1");
        expectField(base + ", \"lora\": {\"dropout\": 1.5}}", "lora.dropout", "must be in [0, 1)");
        expectField(base + ", \"method\": \"dora\", \"lora\": {\"dropout\": 0.1}}", "lora.dropout", "lora only");
        expectField(base + ", \"forgetting\": {\"replay_fraction\": 1.5}}", "forgetting.replay_fraction", "[0, 1)");
        expectField(base + ", \"output\": {\"model\": \"Not A Name\"}}", "output.model", "not a valid name");
        expectField("{\"model\": \"" + model + ":1\", \"training_file\": \"../etc/passwd\"}", "training_file",
                "segment '..' is not allowed");
        expectField("{\"model\": \"" + model + ":1\", \"training_file\": \"sha256:abc\"}", "training_file",
                "64 lower-case hex digits");
        expectField("{\"model\": \"" + model + ":1\"}", "training_file", "training_file is required");
        expectField("{\"training_file\": \"a.jsonl\"}", "model", "model is required");
        expectField(base + ", \"hyperparameters\": {\"steps\": 1.5}}", "hyperparameters.steps", "wrong type");
    }

    @Test
    void anUnknownModelIs422() {
        String missing = unique("nobody");
        as(Tokens.writer()).body("{\"model\": \"" + missing + "@prod\", \"training_file\": \"a.jsonl\"}")
                .post("/v1/fine-tunes").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString(missing + "@prod"));
    }

    @Test
    void authIsRequired() {
        given().contentType(ContentType.JSON).body("{}").post("/v1/fine-tunes").then().statusCode(401)
                .contentType("application/problem+json");
        given().get("/v1/fine-tunes").then().statusCode(401);
        as(Tokens.reader()).body("{}").post("/v1/fine-tunes").then().statusCode(403)
                .contentType("application/problem+json");
        as(Tokens.token("mallory", "nobody")).get("/v1/fine-tunes").then().statusCode(403);
    }

    @Test
    void otherMediaTypesAndUnknownJobs() {
        as(Tokens.writer()).contentType("text/plain").body("model").post("/v1/fine-tunes").then().statusCode(415)
                .contentType("application/problem+json");
        String nobody = UUID.randomUUID().toString();
        as(Tokens.reader()).get("/v1/fine-tunes/{id}", nobody).then().statusCode(404)
                .contentType("application/problem+json");
        as(Tokens.reader()).get("/v1/fine-tunes/{id}/checkpoints", nobody).then().statusCode(404);
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/cancel", nobody).then().statusCode(404);
    }

    private String submit(String body) {
        return as(Tokens.writer()).body(body).post("/v1/fine-tunes").then().statusCode(202).extract().path("id");
    }

    private static void expectField(String body, String field, String detail) {
        as(Tokens.writer()).body(body).post("/v1/fine-tunes").then().statusCode(400)
                .contentType("application/problem+json")
                .body("errors[0].field", equalTo(field))
                .body("detail", containsString(detail));
    }

    /** Registry URLs the tests read. */
    private static final class TrainerApiRegistry {
        static String models(String name) {
            return io.emend.trainer.TrainerApi.registry() + "/v1/models/" + name;
        }

        static String versions(String name) {
            return io.emend.trainer.TrainerApi.registry() + "/v1/models/" + name + "/versions";
        }
    }
}
