package io.emend.editor.edit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.JobEvent;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.alphaedit.NullSpaceProjectors;
import io.emend.core.edit.alphaedit.WrittenKeys;
import io.emend.editor.EditorApi;
import io.emend.editor.Stories;
import io.emend.service.job.JobState;
import io.emend.service.stack.JobServiceApi;
import io.emend.service.stack.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static io.emend.editor.EditorApi.JOBS;
import static io.emend.editor.EditorApi.artifact;
import static io.emend.editor.EditorApi.as;
import static io.emend.editor.EditorApi.importStories;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Edits over REST against the real registry (child process, relaying its events), PostgreSQL and Kafka, on the real
 * stories260k model: each test imports it under a fresh name, edits it through the editor and checks the registry's
 * version, the weights it serves (read back with core, not through the editor), the ledger and the events.
 */
@QuarkusTest
class EditJobResourceTest {

    private static final List<String> MODEL_FILES = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "model.safetensors");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    EditJobRepository jobs;
    @Inject
    EditJobRunner runner;

    @Test
    void anEditBecomesAVersionWithFactorsThatFlipsTheTargetAndARollbackRestoresTheParent() throws IOException {
        String model = importStories();
        String id = as(Tokens.writer()).body(body(model + ":1", "memit", List.of(Stories.LILY, Stories.MAX),
                        Map.of("minEfficacy", 1.0), Map.of("alias", "production")))
                .post("/v1/edits").then().statusCode(202)
                .header("Location", containsString("/v1/edits/jobs/"))
                .body("state", equalTo("queued")).body("parent", equalTo(model + ":1"))
                .extract().path("id");

        // the SSE stream ends when the job ends; its last event is the final state
        String stream = as(Tokens.reader()).accept("text/event-stream").get("/v1/edits/jobs/{id}/events", id)
                .then().statusCode(200).extract().asString();
        List<String> data = stream.lines().filter(l -> l.startsWith("data:")).toList();
        assertTrue(data.getLast().contains("\"state\":\"succeeded\""), stream);

        JOBS.awaitState(id, "succeeded").body("version", equalTo(model + ":2"))
                .body("result.efficacy", equalTo(1.0f)).body("result.gate.passed", equalTo(true));
        JOBS.registryGet("/v1/models/" + model + "/versions/2")
                .body("state", equalTo("ready"))
                .body("operation", equalTo("edit"))
                .body("parents[0].model", equalTo(model)).body("parents[0].number", equalTo(1))
                .body("parents[0].role", equalTo("edited-from"))
                .body("recipe.base", equalTo(model + ":1"))
                .body("recipe.method", equalTo("memit"))
                .body("recipe.request.requests[0].subject", equalTo("Lily"))
                .body("metrics.efficacy", equalTo(1.0f))
                .body("metrics.efficacy_before", equalTo(0.0f))
                .body("manifest.path", hasItems("edit_delta.safetensors", "key_statistics.safetensors",
                        "model.safetensors", "config.json", "tokenizer.json"));
        JOBS.registryGet("/v1/models/" + model + "/aliases/production").body("version", equalTo(2));

        Path parent = download(model, 1);
        Path edited = download(model, 2);
        Stories.Answer before = Stories.answer(parent, Stories.LILY);
        assertFalse(before.prefersTarget(), "stories260k prefers cake before the edit");
        assertTrue(Stories.answer(edited, Stories.LILY).prefersTarget(), "the served weights say rocks");
        assertTrue(Stories.answer(edited, Stories.MAX).prefersTarget(), "and Max is a cat");

        List<Map<String, Object>> ledger = as(Tokens.reader()).get("/v1/models/{m}/edits?version=2", model)
                .then().statusCode(200).extract().path("items");
        assertEquals(2, ledger.size(), ledger.toString());
        assertEquals("Lily", ((Map<?, ?>) ledger.get(0).get("request")).get("subject"));
        assertEquals(model + ":2", ledger.get(0).get("introducedIn"));
        assertEquals(1.0, ((Number) ledger.get(0).get("efficacy")).doubleValue());
        String lily = (String) ledger.get(0).get("id");

        List<Event<JobEvent>> events = JOBS.jobEvents(id, EventTypes.JOB_SUCCEEDED);
        List<String> types = events.stream().map(Event::type).toList();
        assertEquals(EventTypes.JOB_QUEUED, types.getFirst(), types.toString());
        assertTrue(types.contains(EventTypes.JOB_STARTED) && types.contains(EventTypes.JOB_PROGRESS), types.toString());
        events.forEach(e -> {
            assertEquals("edit", e.data().kind());
            assertEquals(model, e.data().model());
            assertEquals(Event.EDITOR, e.source());
        });

        // roll Lily's edit back: a third version, Max recomputed from the base, Lily's answer the parent's again
        String rollback = as(Tokens.writer()).delete("/v1/edits/{id}?alias=production", lily).then().statusCode(202)
                .body("operation", equalTo("rollback")).body("parent", equalTo(model + ":2"))
                .extract().path("id");
        JOBS.awaitState(rollback, "succeeded").body("version", equalTo(model + ":3"));
        JOBS.registryGet("/v1/models/" + model + "/versions/3")
                .body("state", equalTo("ready")).body("operation", equalTo("edit"))
                .body("parents[0].number", equalTo(2)).body("parents[0].role", equalTo("edited-from"))
                .body("recipe.rolledBack", equalTo(lily)).body("recipe.base", equalTo(model + ":1"));
        JOBS.registryGet("/v1/models/" + model + "/aliases/production").body("version", equalTo(3));
        Path rolledBack = download(model, 3);
        assertEquals(before, Stories.answer(rolledBack, Stories.LILY), "Lily answers as the parent did");
        assertTrue(Stories.answer(rolledBack, Stories.MAX).prefersTarget(), "Max's edit survives the rollback");
        List<String> live = as(Tokens.reader()).get("/v1/models/{m}/edits?version=3", model).then().statusCode(200)
                .extract().path("items.request.subject");
        assertEquals(List.of("Max"), live);
        // version 2 is never changed: Lily is still live there
        as(Tokens.reader()).get("/v1/models/{m}/edits?version=2", model).then().body("items.size()", equalTo(2));
        as(Tokens.reader()).get("/v1/models/{m}/edits", model).then()
                .body("items.find { it.id == '" + lily + "' }.liveIn.version", equalTo(List.of(model + ":2")));
    }

    @Test
    void retentionIsMeasuredOnDescendantsAttachedAsMetricsAndGatesPromotion() throws IOException {
        String model = importStories();
        String id = as(Tokens.writer()).body(body(model + ":1", "rome", List.of(Stories.LILY), null, null))
                .post("/v1/edits").then().statusCode(202).extract().path("id");
        JOBS.awaitState(id, "succeeded").body("version", equalTo(model + ":2"));

        // two descendants of the edited version as another service would register them: one keeps its weights
        // (a lossless re-export), one has the base's weights back (a fine-tune that forgot the edit)
        int kept = registerDescendant(model, 2, 2);
        int forgot = registerDescendant(model, 2, 1);
        awaitRetention(model, kept).body("metrics.retention.edits", equalTo(1))
                .body("metrics.retention.held", equalTo(1)).body("metrics.retention.rate", equalTo(1.0f))
                .body("metrics.retention.from", equalTo(List.of(model + ":2")));
        awaitRetention(model, forgot).body("metrics.retention.held", equalTo(0))
                .body("metrics.retention.rate", equalTo(0.0f));
        as(Tokens.reader()).get("/v1/models/{m}/edits?version={n}", model, kept).then().statusCode(200)
                .body("items.size()", equalTo(1))
                .body("items[0].liveIn.find { it.version == '" + model + ":" + kept + "' }.origin",
                        equalTo("retained"));
        as(Tokens.reader()).get("/v1/models/{m}/edits?version={n}", model, forgot).then().body("items.size()",
                equalTo(0));
        // the retention gate: the alias moves to the version that kept the edit, never to the one that lost it
        as(Tokens.admin()).body(Map.of("alias", "production", "minRetention", 1.0))
                .post("/v1/models/{m}/versions/{n}/promotion", model, kept).then().statusCode(200)
                .body("version", equalTo(kept)).body("retention", equalTo(1.0f));
        as(Tokens.admin()).body(Map.of("alias", "production", "minRetention", 0.5))
                .post("/v1/models/{m}/versions/{n}/promotion", model, forgot).then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString("below the gate's 0.5000"));
        as(Tokens.writer()).body(Map.of("alias", "production", "minRetention", 0.5))
                .post("/v1/models/{m}/versions/{n}/promotion", model, kept).then().statusCode(403);
        JOBS.registryGet("/v1/models/" + model + "/aliases/production").body("version", equalTo(kept));
        // the latest measurement is the forgetting descendant's or the keeping one's, whichever ran last
        Object efficacy = as(Tokens.reader()).get("/v1/models/{m}/edits", model).then().extract()
                .path("items[0].measuredIn");
        assertTrue(List.of(model + ":" + kept, model + ":" + forgot).contains(efficacy), String.valueOf(efficacy));

        // a new edit on the descendant that kept Lily's: Lily stays live in the result (it still holds there)
        String next = as(Tokens.writer()).body(body(model + ":" + kept, "rome", List.of(Stories.MAX), null, null))
                .post("/v1/edits").then().statusCode(202).extract().path("id");
        String made = JOBS.awaitState(next, "succeeded").extract().path("version");
        int madeNumber = Integer.parseInt(made.substring(made.lastIndexOf(':') + 1));
        as(Tokens.reader()).get("/v1/models/{m}/edits?version={n}", model, madeNumber).then().statusCode(200)
                .body("items.request.subject", equalTo(List.of("Lily", "Max")))
                .body("items[0].liveIn.find { it.version == '" + made + "' }.origin", equalTo("retained"))
                .body("items[1].liveIn.find { it.version == '" + made + "' }.origin", equalTo("edit"));

        // rolling back the only edit of version 2 gives the base's exact weights back
        String lily = as(Tokens.reader()).get("/v1/models/{m}/edits?version=2", model).then().extract()
                .path("items[0].id");
        String rollback = as(Tokens.writer()).delete("/v1/edits/{id}?version=2", lily).then().statusCode(202)
                .extract().path("id");
        String version = JOBS.awaitState(rollback, "succeeded").extract().path("version");
        int number = Integer.parseInt(version.substring(version.lastIndexOf(':') + 1));
        assertEquals(weightsDigest(model, 1), weightsDigest(model, number));
        as(Tokens.reader()).get("/v1/models/{m}/edits?version={n}", model, number).then().body("items.size()",
                equalTo(0));
    }

    @Test
    void aSecondAlphaEditJobProtectsTheFirstJobsKeysAndReusesTheNullSpace() throws IOException {
        String model = importStories();
        String first = as(Tokens.writer()).body(body(model + ":1", "alphaedit", List.of(Stories.LILY), null, null))
                .post("/v1/edits").then().statusCode(202).extract().path("id");
        JOBS.awaitState(first, "succeeded").body("version", equalTo(model + ":2"));
        String nullSpace = JOBS.registryGet("/v1/models/" + model + "/versions/2")
                .body("recipe.method", equalTo("alphaedit"))
                .body("recipe.writtenKeys.edits", equalTo(1)).body("recipe.writtenKeys.fromParent", equalTo(0))
                .body("recipe.nullSpace.energy", equalTo(0.05f))
                .body("manifest.path", hasItems(NullSpaceProjectors.FILE_NAME, WrittenKeys.FILE_NAME))
                // fluency: prompt and rephrasing continued by 100 sampled tokens, before and after, in bits
                .body("metrics.fluency_before", greaterThan(1.0f)).body("metrics.fluency", greaterThan(1.0f))
                .extract().path("recipe.nullSpace.sha256");

        String second = as(Tokens.writer()).body(body(model + ":2", "alphaedit", List.of(Stories.MAX), null, null))
                .post("/v1/edits").then().statusCode(202).extract().path("id");
        JOBS.awaitState(second, "succeeded").body("version", equalTo(model + ":3"));
        JOBS.registryGet("/v1/models/" + model + "/versions/3")
                .body("recipe.writtenKeys.edits", equalTo(2)).body("recipe.writtenKeys.fromParent", equalTo(1))
                .body("recipe.nullSpace.sha256", equalTo(nullSpace));

        // the second job's stored keys are the first job's plus its own: K_p grew by a positive semi-definite Gram
        WrittenKeys firstKeys = WrittenKeys.read(artifactFile(model, 2, WrittenKeys.FILE_NAME));
        WrittenKeys bothKeys = WrittenKeys.read(artifactFile(model, 3, WrittenKeys.FILE_NAME));
        assertEquals(firstKeys.grams().keySet(), bothKeys.grams().keySet());
        for (int layer : firstKeys.grams().keySet()) {
            Matrix added = bothKeys.grams().get(layer).minus(firstKeys.grams().get(layer));
            double trace = added.meanDiagonal() * added.rows();
            assertTrue(trace > 0, "layer " + layer + ": the second job wrote keys");
            // F32 storage rounds each Gram to ~1e-7 of its entries; a dropped first job would leave -trace(G₁)
            assertTrue(added.symmetricEigen().eigenvalues()[0] > -1e-4 * trace, "layer " + layer
                    + ": the first job's keys are all still in K_p");
        }
    }

    private Path artifactFile(String model, int number, String path) throws IOException {
        Path file = java.nio.file.Files.createTempFile("artifact", ".safetensors");
        java.nio.file.Files.write(file, artifact(model, number, path));
        return file;
    }

    private String weightsDigest(String model, int number) {
        return JOBS.registryGet("/v1/models/" + model + "/versions/" + number).extract()
                .path("manifest.find { it.path == 'model.safetensors' }.sha256");
    }

    @Test
    void aQueuedJobIsCancelledAndNeverRuns() {
        EditJob job = queuedJob(JobServiceApi.unique("cancelled"));
        jobs.insert(job);
        as(Tokens.writer()).delete("/v1/edits/jobs/{id}", job.id()).then().statusCode(202)
                .body("state", equalTo("cancelled"));
        runner.enqueue(job.id());
        JOBS.awaitState(job.id(), "cancelled");
        given().auth().oauth2(Tokens.reader()).get(JOBS.registry() + "/v1/models/{m}", job.model()).then()
                .statusCode(404);
        assertEquals(EventTypes.JOB_CANCELLED, JOBS.jobEvents(job.id(), EventTypes.JOB_CANCELLED).getLast().type());
        as(Tokens.writer()).delete("/v1/edits/jobs/{id}", job.id()).then().statusCode(409)
                .contentType("application/problem+json").body("detail", containsString("already ended"));
    }

    @Test
    void restartFailsTheJobThatWasRunningAndRunsTheQueuedOnes() throws IOException {
        String model = importStories();
        EditJob interrupted = queuedJob(model);
        jobs.insert(interrupted);
        // as the previous process left it: it took the job and then died
        assertTrue(jobs.transition(interrupted.id(), JobState.QUEUED, JobState.RUNNING, 0.4, "target 1/1"));
        EditJob waiting = queuedJob(model);
        jobs.insert(waiting);

        runner.recover();

        as(Tokens.reader()).get("/v1/edits/jobs/{id}", interrupted.id()).then().statusCode(200)
                .body("state", equalTo("failed"))
                .body("message", containsString("the editor stopped while this job was running"));
        JOBS.awaitState(waiting.id(), "succeeded").body("version", equalTo(model + ":2"));
        JOBS.jobEvents(interrupted.id(), EventTypes.JOB_FAILED);
    }

    // ---- bad input: each a problem document naming the field, and no job, no version ----

    @Test
    void subjectNotInThePromptIsRejected() {
        EditRequest r = EditRequest.of("Tom liked to eat", "Lily", "rocks");
        rejected(body("stories-any:1", "rome", List.of(r), null, null), 400, "requests[0].subject",
                "does not occur in the prompt");
    }

    @Test
    void emptyTargetIsRejected() {
        EditRequest r = EditRequest.of("Lily liked to eat", "Lily", " ");
        rejected(body("stories-any:1", "rome", List.of(r), null, null), 400, "requests[0].target_new", "is empty");
    }

    @Test
    void promptLongerThanTheContextIsRejected() throws IOException {
        String model = importStories();
        EditRequest r = EditRequest.of("Lily " + "and the dog ran ".repeat(200) + "to eat", "Lily", "rocks");
        rejected(body(model + ":1", "memit", List.of(r), null, null), 400, "requests[0].prompt",
                "longer than the model's context of 512");
    }

    @Test
    void tooManyEditsForOneRequestAreRejected() {
        List<EditRequest> many = java.util.Collections.nCopies(21, Stories.LILY);
        rejected(body("stories-any:1", "memit", many, null, null), 400, "requests", "too many edits: 21");
    }

    @Test
    void unknownModelIsUnprocessable() {
        String missing = JobServiceApi.unique("nobody");
        rejected(body(missing + "@production", "rome", List.of(Stories.LILY), null, null), 422, "model",
                missing + "@production");
    }

    @Test
    void unknownMethodListsTheValidOnes() {
        rejected(body("stories-any:1", "lora", List.of(Stories.LILY), null, null), 400, "method",
                "valid methods: rome, memit, alphaedit");
    }

    @Test
    void malformedJsonAndUnknownFieldsAreRejected() {
        rejected("{\"model\": \"a\",\n \"requests\": [\n}", 400, "body", "not valid JSON");
        rejected("{\"model\": \"a\", \"method\": \"rome\", \"requests\": [], \"colour\": 1}", 400, "colour",
                "unknown field");
    }

    @Test
    void rollingBackAnUnknownEditIsNotFound() {
        as(Tokens.writer()).delete("/v1/edits/{id}", UUID.randomUUID().toString()).then().statusCode(404)
                .contentType("application/problem+json").body("detail", containsString("no edit"));
    }

    @Test
    void authIsRequired() {
        given().contentType(ContentType.JSON).body("{}").post("/v1/edits").then().statusCode(401)
                .contentType("application/problem+json");
        given().get("/v1/edits/jobs").then().statusCode(401);
        as(Tokens.reader()).body("{}").post("/v1/edits").then().statusCode(403)
                .contentType("application/problem+json");
        as(Tokens.reader()).delete("/v1/edits/{id}", UUID.randomUUID().toString()).then().statusCode(403);
        given().auth().oauth2(Tokens.token("mallory", "nobody")).get("/v1/models/x/edits").then().statusCode(403);
    }

    @Test
    void otherMediaTypesAndUnknownJobs() {
        given().auth().oauth2(Tokens.writer()).contentType("text/plain").body("model: x").post("/v1/edits")
                .then().statusCode(415).contentType("application/problem+json");
        as(Tokens.reader()).get("/v1/edits/jobs/{id}", UUID.randomUUID().toString()).then().statusCode(404)
                .contentType("application/problem+json");
    }

    // ---- helpers ----

    private void rejected(String body, int status, String field, String detail) {
        int jobsBefore = jobs.all(1000).size();
        as(Tokens.writer()).body(body).post("/v1/edits").then().statusCode(status)
                .contentType("application/problem+json")
                .body("detail", containsString(detail))
                .body("errors[0].field", equalTo(field));
        assertEquals(jobsBefore, jobs.all(1000).size(), "no job was recorded");
    }

    /** Registers a ready descendant of {@code model:parent} whose files are those of {@code model:weightsOf}. */
    private int registerDescendant(String model, int parent, int weightsOf) {
        List<Map<String, Object>> manifest = JOBS.registryGet("/v1/models/" + model + "/versions/" + weightsOf)
                .extract().path("manifest.findAll { it.path in ['config.json', 'tokenizer.json',"
                        + " 'tokenizer_config.json', 'model.safetensors'] }");
        List<Map<String, Object>> entries = manifest.stream().map(e -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            for (String k : List.of("path", "sha256", "size", "mediaType")) {
                entry.put(k, e.get(k));
            }
            return entry;
        }).toList();
        int number = as(Tokens.writer()).body(Map.of("operation", "finetune",
                        "parents", List.of(Map.of("ref", model + ":" + parent, "role", "base")),
                        "recipe", Map.of("by", "the editor's retention test"), "manifest", entries))
                .post(JOBS.registry() + "/v1/models/{m}/versions", model).then().statusCode(201)
                .extract().path("number");
        // every blob is in the store already, so the version can turn ready without uploads
        as(Tokens.writer()).body(Map.of("state", "ready"))
                .post(JOBS.registry() + "/v1/models/{m}/versions/{n}/state", model, number).then().statusCode(200);
        return number;
    }

    private ValidatableResponse awaitRetention(String model, int number) {
        long deadline = System.nanoTime() + EditorApi.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            var answer = JOBS.registryGet("/v1/models/" + model + "/versions/" + number);
            if (answer.extract().path("metrics.retention") != null) {
                return answer;
            }
            JobServiceApi.sleep(200);
        }
        throw new AssertionError("no retention metrics on " + model + ":" + number + ": "
                + JOBS.registryGet("/v1/models/" + model + "/versions/" + number).extract().asString());
    }

    private Path download(String model, int number) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : MODEL_FILES) {
            files.put(f, artifact(model, number, f));
        }
        return Stories.directory(files);
    }

    private EditJob queuedJob(String model) {
        Instant now = Instant.now();
        return new EditJob(UUID.randomUUID().toString(), EditJob.EDIT, JobState.QUEUED, model, null, model + ":1",
                body(model + ":1", "rome", List.of(Stories.LILY), null, null), 0, "queued", null, null, now, now);
    }

    static String body(String model, String method, List<EditRequest> requests, Map<String, Object> gate,
                       Map<String, Object> output) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("method", method);
        body.put("requests", requests.stream().map(EasyEditLayout::toJson).toList());
        if (gate != null) {
            body.put("gate", gate);
        }
        if (output != null) {
            body.put("output", output);
        }
        try {
            return JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
