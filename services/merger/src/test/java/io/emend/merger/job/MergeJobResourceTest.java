package io.emend.merger.job;

import io.emend.contracts.event.Event;
import io.emend.merger.TinyLlama;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.JobEvent;
import io.emend.service.job.JobState;
import io.emend.service.stack.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static io.emend.merger.MergerApi.WAIT;
import static io.emend.merger.MergerApi.artifact;
import static io.emend.merger.MergerApi.as;
import static io.emend.merger.MergerApi.awaitState;
import static io.emend.merger.MergerApi.importModel;
import static io.emend.merger.MergerApi.jobEvents;
import static io.emend.merger.MergerApi.registryGet;
import static io.emend.merger.MergerApi.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Merges over REST against the real registry (child process), PostgreSQL and Kafka: two versions of tiny-llama, the
 * fixture and a copy with 0.5 added to every weight, are imported once; each test merges them and checks the
 * weights, the registry's lineage and the events.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MergeJobResourceTest {

    /** |error| bound for F32 averages of values below ~10 in magnitude: a few ulps (ulp(10) ≈ 1e-6). */
    private static final double TOLERANCE = 1e-5;

    @Inject
    MergeJobRepository jobs;
    @Inject
    JobRunner runner;

    private String registry;
    private String source;

    @BeforeAll
    void importInputs() throws IOException {
        registry = ConfigProvider.getConfig().getValue("emend.merger.registry.url", String.class);
        source = unique("tiny");
        Path shifted = TinyLlama.shifted(Files.createTempDirectory("tiny-shifted").resolve("model"), 0.5f);
        importModel(source, TinyLlama.FIXTURE.toAbsolutePath());
        importModel(source, shifted.toAbsolutePath());
    }

    @Test
    void yamlLinearMergeBecomesAReadyVersionWithLineageAndAlias() throws IOException {
        String output = unique("soup");
        String yaml = """
                merge_method: linear
                models:
                  - model: %s:1
                    parameters: {weight: 0.5}
                  - model: %s:2
                    parameters: {weight: 0.5}
                output:
                  model: %s
                  alias: production
                dtype: float32
                """.formatted(source, source, output);
        String id = as(Tokens.writer()).contentType("application/yaml").body(yaml).post("/v1/merges")
                .then().statusCode(202)
                .header("Location", containsString("/v1/merges/"))
                .body("state", equalTo("queued"))
                .body("inputs.'" + source + ":2'", equalTo(source + ":2"))
                .extract().path("id");

        // the SSE stream ends when the job ends; its last event is the final state
        String stream = as(Tokens.reader()).accept("text/event-stream").get("/v1/merges/{id}/events", id)
                .then().statusCode(200).extract().asString();
        List<String> data = stream.lines().filter(l -> l.startsWith("data:")).toList();
        assertTrue(data.getLast().contains("\"state\":\"succeeded\""), stream);

        awaitState(id, "succeeded").body("version", equalTo(output + ":1")).body("progress", equalTo(1.0f));
        registryGet("/v1/models/" + output + "/versions/1")
                .body("state", equalTo("ready"))
                .body("operation", equalTo("merge"))
                .body("parents.size()", equalTo(2))
                .body("parents.find { it.number == 1 }.role", equalTo("merged-from"))
                .body("parents.find { it.number == 2 }.role", equalTo("merged-from"))
                .body("parents[0].model", equalTo(source))
                .body("recipe.format", equalTo("yaml"))
                .body("recipe.request.merge_method", equalTo("linear"))
                .body("manifest.path", org.hamcrest.Matchers.hasItems("config.json", "model.safetensors",
                        "tokenizer.json", "merge_recipe.yml"));
        registryGet("/v1/models/" + output + "/aliases/production").body("version", equalTo(1));

        Map<String, float[]> merged = TinyLlama.tensors(artifact(output, 1, "model.safetensors"));
        Map<String, float[]> original = TinyLlama.original();
        assertEquals(original.keySet(), merged.keySet());
        original.forEach((name, values) -> {
            float[] got = merged.get(name);
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i] + 0.25, got[i], TOLERANCE, name + "[" + i + "]");
            }
        });

        List<Event<JobEvent>> events = jobEvents(id, EventTypes.JOB_SUCCEEDED);
        List<String> types = events.stream().map(Event::type).toList();
        assertEquals(EventTypes.JOB_QUEUED, types.getFirst(), types.toString());
        assertTrue(types.contains(EventTypes.JOB_STARTED), types.toString());
        assertTrue(types.contains(EventTypes.JOB_PROGRESS), types.toString());
        assertEquals(EventTypes.JOB_SUCCEEDED, types.getLast(), types.toString());
        events.forEach(e -> {
            assertEquals(output, e.data().model());
            assertEquals("merge", e.data().kind());
            assertEquals(Event.MERGER, e.source());
        });
        assertEquals(1.0, events.getLast().data().progress());
    }

    @Test
    void jsonTaskArithmeticRecordsBaseAndMergedFrom() throws IOException {
        String output = unique("delta");
        String json = """
                {"merge_method": "task_arithmetic",
                 "base_model": "%s:1",
                 "models": [{"model": "%s:2", "parameters": {"weight": 0.5}}],
                 "output": {"model": "%s"}}
                """.formatted(source, source, output);
        String id = as(Tokens.writer()).body(json).post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded");
        registryGet("/v1/models/" + output + "/versions/1")
                .body("state", equalTo("ready"))
                .body("parents.find { it.number == 1 }.role", equalTo("base"))
                .body("parents.find { it.number == 2 }.role", equalTo("merged-from"))
                .body("recipe.format", equalTo("json"));
        // base + 0.5 · (shifted − base) = base + 0.25
        Map<String, float[]> merged = TinyLlama.tensors(artifact(output, 1, "model.safetensors"));
        TinyLlama.original().forEach((name, values) -> {
            for (int i = 0; i < values.length; i++) {
                assertEquals(values[i] + 0.25, merged.get(name)[i], TOLERANCE, name + "[" + i + "]");
            }
        });
        as(Tokens.reader()).get("/v1/merges").then().statusCode(200).body("items.id", org.hamcrest.Matchers.hasItem(id));
    }

    @Test
    void aQueuedJobIsCancelledAndNeverRuns() {
        String output = unique("cancelled");
        MergeJob job = queuedJob(output);
        jobs.insert(job);
        as(Tokens.writer()).delete("/v1/merges/{id}", job.id()).then().statusCode(202)
                .body("state", equalTo("cancelled"));
        runner.enqueue(job.id());
        awaitState(job.id(), "cancelled");
        given().auth().oauth2(Tokens.reader()).get(registry + "/v1/models/{m}", output).then().statusCode(404);
        List<Event<JobEvent>> events = jobEvents(job.id(), EventTypes.JOB_CANCELLED);
        assertEquals(EventTypes.JOB_CANCELLED, events.getLast().type());

        as(Tokens.writer()).delete("/v1/merges/{id}", job.id()).then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString("already ended"));
    }

    /**
     * Catches a job between two tensors: a trigger on the real job table makes each progress write of this job's
     * model take 300 ms (with {@code %test} progress reported after every tensor), so the merge of tiny-llama's
     * tensors spans seconds, and the DELETE lands while it runs.
     */
    @Test
    void aRunningJobStopsAtTheNextTensorAndRegistersNoVersion() throws Exception {
        String output = unique("slow");
        try (Connection db = mergerDatabase(); Statement sql = db.createStatement()) {
            sql.execute("""
                    CREATE OR REPLACE FUNCTION slow_progress() RETURNS trigger AS $$
                    BEGIN
                      IF NEW.model = '%s' AND NEW.state = 'running' AND NEW.progress > 0 THEN
                        PERFORM pg_sleep(0.3);
                      END IF;
                      RETURN NEW;
                    END $$ LANGUAGE plpgsql""".formatted(output));
            sql.execute("CREATE TRIGGER slow_progress BEFORE UPDATE ON merge_job FOR EACH ROW"
                    + " EXECUTE FUNCTION slow_progress()");
            try {
                String id = as(Tokens.writer()).contentType("application/yaml")
                        .body("merge_method: linear\nmodels:\n  - model: " + source + ":1\n  - model: " + source
                                + ":2\noutput:\n  model: " + output + "\n")
                        .post("/v1/merges").then().statusCode(202).extract().path("id");
                double progress = awaitRunningProgress(id);
                assertTrue(progress > 0 && progress < 0.5, "caught at " + progress);
                as(Tokens.writer()).delete("/v1/merges/{id}", id).then().statusCode(202)
                        .body("state", equalTo("running"));
                var cancelled = awaitState(id, "cancelled").body("message", equalTo("cancelled"))
                        .body("version", org.hamcrest.Matchers.nullValue());
                double stoppedAt = cancelled.extract().<Number>path("progress").doubleValue();
                // it stopped a tensor or two later, far from the end (0.9 is the whole merge)
                assertTrue(stoppedAt < 0.6, "stopped at " + stoppedAt);
                jobEvents(id, EventTypes.JOB_CANCELLED);
                // the output model is created only after a merge completes: nothing reached the registry
                given().auth().oauth2(Tokens.reader()).get(registry + "/v1/models/{m}", output).then().statusCode(404);
                Path work = Path.of(ConfigProvider.getConfig().getValue("emend.merger.storage.work-dir", String.class));
                assertTrue(!Files.exists(work.resolve(id)), "the job's work directory is deleted");
            } finally {
                sql.execute("DROP TRIGGER slow_progress ON merge_job");
                sql.execute("DROP FUNCTION slow_progress()");
            }
        }
    }

    private Connection mergerDatabase() throws java.sql.SQLException {
        var config = ConfigProvider.getConfig();
        return DriverManager.getConnection(config.getValue("emend.merger.db.url", String.class),
                config.getValue("emend.merger.db.username", String.class),
                config.getOptionalValue("emend.merger.db.password", String.class).orElse(""));
    }

    /** Waits until the job is running and has reported at least one merged tensor; returns that progress. */
    private double awaitRunningProgress(String id) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            var answer = as(Tokens.reader()).get("/v1/merges/{id}", id).then().statusCode(200).extract();
            String state = answer.path("state");
            double progress = answer.<Number>path("progress").doubleValue();
            if (state.equals("running") && progress > 0) {
                return progress;
            }
            if (!List.of("queued", "running").contains(state)) {
                throw new AssertionError("job " + id + " ended " + state + " before it could be cancelled");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("job " + id + " never reported progress");
    }

    @Test
    void restartFailsTheJobThatWasRunningAndRunsTheQueuedOnes() {
        MergeJob interrupted = queuedJob(unique("interrupted"));
        jobs.insert(interrupted);
        // as the previous process left it: it took the job and then died
        assertTrue(jobs.transition(interrupted.id(), JobState.QUEUED, JobState.RUNNING, 0.4, "merged 8 of 20 tensors"));
        MergeJob waiting = queuedJob(unique("waiting"));
        jobs.insert(waiting);

        runner.recover();

        as(Tokens.reader()).get("/v1/merges/{id}", interrupted.id()).then().statusCode(200)
                .body("state", equalTo("failed"))
                .body("message", containsString("the merger stopped while this job was running"));
        awaitState(waiting.id(), "succeeded").body("version", equalTo(waiting.model() + ":1"));
        registryGet("/v1/models/" + waiting.model() + "/versions/1").body("state", equalTo("ready"));
        jobEvents(interrupted.id(), EventTypes.JOB_FAILED);
    }

    // ---- bad input: each a problem document, no job and no version ----

    @Test
    void malformedYamlNamesItsLine() {
        as(Tokens.writer()).contentType("application/yaml")
                .body("merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: [1, 2\n")
                .post("/v1/merges").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("not valid YAML")).body("line", notNullValue());
    }

    @Test
    void malformedJsonNamesItsLine() {
        as(Tokens.writer()).body("{\"merge_method\": \"linear\",\n \"models\": [\n}")
                .post("/v1/merges").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("not valid JSON")).body("line", equalTo(3));
    }

    @Test
    void unknownMethodListsTheValidOnes() {
        as(Tokens.writer()).contentType("application/yaml")
                .body("merge_method: average\nmodels:\n  - model: a\noutput: {model: x}\n")
                .post("/v1/merges").then().statusCode(400)
                .body("detail", containsString("unknown merge method 'average'"))
                .body("detail", containsString("linear")).body("line", equalTo(1));
    }

    @Test
    void unknownParameterListsTheValidOnes() {
        as(Tokens.writer()).contentType("application/yaml")
                .body("merge_method: linear\nmodels:\n  - model: a\n    parameters: {wieght: 1}\noutput:\n  model: x\n")
                .post("/v1/merges").then().statusCode(400)
                .body("detail", containsString("wieght")).body("detail", containsString("weight"))
                .body("line", equalTo(4));
    }

    @Test
    void outputLinesDoNotShiftTheRecipesLineNumbers() {
        as(Tokens.writer()).contentType("application/yaml")
                .body("output:\n  model: x\nmerge_method: linear\nmodels:\n  - model: a\n    parameters: {wieght: 1}\n")
                .post("/v1/merges").then().statusCode(400).body("line", equalTo(6));
    }

    @Test
    void missingOutputIsRejected() {
        as(Tokens.writer()).body("{\"merge_method\": \"linear\", \"models\": [{\"model\": \"" + source + ":1\"}]}")
                .post("/v1/merges").then().statusCode(400)
                .body("errors[0].field", equalTo("output"));
        as(Tokens.writer()).body("{\"merge_method\": \"linear\", \"models\": [{\"model\": \"" + source
                        + ":1\"}], \"output\": {\"model\": \"Not A Name\"}}")
                .post("/v1/merges").then().statusCode(400)
                .body("errors[0].field", equalTo("output.model"));
    }

    @Test
    void unknownModelReferenceIs422() {
        String missing = unique("nobody");
        as(Tokens.writer()).contentType("application/yaml")
                .body("merge_method: linear\nmodels:\n  - model: " + source + ":1\n  - model: " + missing
                        + "@prod\noutput: {model: " + unique("x") + "}\n")
                .post("/v1/merges").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString(missing + "@prod"));
    }

    @Test
    void authIsRequired() {
        given().contentType(ContentType.JSON).body("{}").post("/v1/merges").then().statusCode(401)
                .contentType("application/problem+json");
        given().get("/v1/merges").then().statusCode(401);
        as(Tokens.reader()).body("{}").post("/v1/merges").then().statusCode(403)
                .contentType("application/problem+json");
        as(Tokens.token("mallory", "nobody")).get("/v1/merges").then().statusCode(403);
    }

    @Test
    void otherMediaTypesAndUnknownJobs() {
        as(Tokens.writer()).contentType("text/plain").body("merge_method: linear").post("/v1/merges")
                .then().statusCode(415).contentType("application/problem+json");
        as(Tokens.reader()).get("/v1/merges/{id}", UUID.randomUUID().toString()).then().statusCode(404)
                .contentType("application/problem+json");
        as(Tokens.writer()).delete("/v1/merges/{id}", UUID.randomUUID().toString()).then().statusCode(404);
    }

    // ---- helpers ----

    private MergeJob queuedJob(String output) {
        String yaml = "merge_method: linear\nmodels:\n  - model: " + source + ":1\n  - model: " + source
                + ":2\noutput:\n  model: " + output + "\n";
        Instant now = Instant.now();
        return new MergeJob(UUID.randomUUID().toString(), JobState.QUEUED, output, null, yaml, false,
                Map.of(source + ":1", source + ":1", source + ":2", source + ":2"), 0, "queued", null, null, now, now);
    }

}
