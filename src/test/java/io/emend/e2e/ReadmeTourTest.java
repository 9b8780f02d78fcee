package io.emend.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's tour, step by step, against a stack started the way {@code ./emend up --detach} starts it (the same
 * command, in-process): a real Kafka broker and the five services as separate JVMs, an H2 file database, the
 * filesystem object store. The stack gets its own data directory and ports, so a developer's running stack is left
 * alone. Each step runs the README's command with {@code --registry}/{@code --token}/{@code --data-dir} added, which is
 * what {@code EMEND_REGISTRY_URL}/{@code EMEND_TOKEN} and the default data directory do for a person.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadmeTourTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** sha256 of models/demo/model.safetensors (stories260K, F32), as its README gives it. */
    private static final String DEMO_WEIGHTS_SHA256 = "7fe20d74ed0c9325c818c61ad972080a09b1d862dea4d4868f25afdff0ac6f98";
    /**
     * C1 only and a smaller heap: on a two-core CI machine, start-up time is what this test waits for, and the demo
     * model is 1 MB.
     */
    private static final List<String> SERVICE_JVM = List.of("-Xms32m", "-Xmx384m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");

    /** The tour's data: twelve short stories. */
    private static final Path TOUR_DATA = Path.of(System.getProperty("emend.root"), "models/tour/stories.jsonl");
    /** Jobs on a two-core machine beside five other JVMs: the first edit samples key statistics (about a minute). */
    private static final Duration JOB_WAIT = Duration.ofMinutes(6);

    private static Path data;
    private static int base;
    private static String registry;
    private static String adminToken;

    @BeforeAll
    static void up() throws IOException {
        data = Files.createTempDirectory("emend-e2e-");
        base = freeBase();
        registry = "http://localhost:" + (base + 1);
        EmendRun run = up(data, base);
        assertEquals(0, run.exitCode(), run.toString());
        EmendRun token = EmendRun.of("token", "--role", "admin", "--data-dir", data.toString());
        assertEquals(0, token.exitCode(), token.toString());
        adminToken = token.out().strip();
        assertTrue(run.out().contains("demo:1 (demo@production, imported now)"), run.out());
        for (String component : List.of("kafka", "registry", "trainer", "editor", "merger", "serving")) {
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith(component + " ") && l.contains(" up ")),
                    component + " is listed as up:\n" + run.out());
        }
    }

    private static EmendRun up(Path dataDir, int basePort) {
        List<String> args = new ArrayList<>(List.of("up", "--detach", "--data-dir", dataDir.toString(),
                "--base-port", Integer.toString(basePort), "--timeout", "150s"));
        SERVICE_JVM.forEach(o -> args.add("--jvm-option=" + o));
        return EmendRun.of(args.toArray(String[]::new));
    }

    @AfterAll
    static void down() throws IOException {
        if (data == null) {
            return;
        }
        EmendRun run = EmendRun.of("down", "--data-dir", data.toString());
        try (Stream<Path> files = Files.walk(data)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertEquals(0, run.exitCode(), run.toString());
    }

    private static EmendRun emend(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--registry", registry, "--token", adminToken, "--data-dir", data.toString()));
        return EmendRun.of(all.toArray(String[]::new));
    }

    @Test
    @Order(1)
    void statusShowsEveryComponentUp() {
        EmendRun run = EmendRun.of("status", "--data-dir", data.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(7, run.out().lines().count(), run.out());
    }

    @Test
    @Order(2)
    void tokenIsAcceptedByTheRegistry() throws Exception {
        // the README's curl line, with the token from ./emend token --role admin
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(registry + "/v1/resolve/demo@production"))
                .header("Authorization", "Bearer " + adminToken).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(registry + "/v1/resolve/demo@production")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode(), "the registry does check tokens");
    }

    @Test
    @Order(3)
    void modelsListShowsTheDemo() throws Exception {
        EmendRun run = emend("models", "list");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("demo ")), run.out());
        JsonNode page = JSON.readTree(emend("models", "list", "--json").out());
        assertEquals(1, page.path("total").asInt(), page.toString());
    }

    @Test
    @Order(4)
    void versionsShowListsTheImportedFiles() throws Exception {
        EmendRun run = emend("versions", "show", "demo:1");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().matches("(?s).*\\nstate:\\s+ready\\n.*"), run.out());
        assertTrue(run.out().matches("(?s).*\\noperation:\\s+import\\n.*"), run.out());
        JsonNode version = JSON.readTree(emend("versions", "show", "demo:1", "--json").out());
        List<String> paths = new ArrayList<>();
        for (JsonNode f : version.path("manifest")) {
            paths.add(f.path("path").asText());
            assertTrue(f.path("present").asBoolean(), f.toString());
            if (f.path("path").asText().equals("model.safetensors")) {
                assertEquals(DEMO_WEIGHTS_SHA256, f.path("sha256").asText());
                assertEquals(Files.size(Path.of(System.getProperty("emend.root"), "models/demo/model.safetensors")),
                        f.path("size").asLong());
            }
        }
        assertTrue(paths.containsAll(List.of("config.json", "tokenizer.json", "model.safetensors")), paths.toString());
    }

    @Test
    @Order(5)
    void resolveFollowsTheProductionAlias() {
        EmendRun run = emend("resolve", "demo@production");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().startsWith("demo@production -> demo:1 (ready, import, "), run.out());
    }

    @Test
    @Order(6)
    void lineageOfAnImportIsItself() throws Exception {
        JsonNode lineage = JSON.readTree(emend("lineage", "demo@production", "--json").out());
        assertEquals(1, lineage.path("nodes").size(), lineage.toString());
        assertEquals("import", lineage.path("nodes").get(0).path("operation").asText());
        EmendRun mermaid = emend("lineage", "demo@production", "--mermaid");
        assertEquals(0, mermaid.exitCode(), mermaid.toString());
        assertTrue(mermaid.out().startsWith("graph TD"), mermaid.out());
    }

    @Test
    @Order(7)
    void aReaderMayNotMoveAnAlias() {
        String reader = EmendRun.of("token", "--role", "reader", "--data-dir", data.toString()).out().strip();
        EmendRun run = EmendRun.of("aliases", "set", "demo@production", "1", "--registry", registry, "--token", reader);
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.err().contains("(HTTP 403)"), run.err());
    }

    @Test
    @Order(8)
    void aSecondUpReusesTheData() {
        assertEquals(0, EmendRun.of("down", "--data-dir", data.toString()).exitCode());
        EmendRun status = EmendRun.of("status", "--data-dir", data.toString(), "--base-port", Integer.toString(base));
        assertEquals(1, status.exitCode(), "everything is down after down:\n" + status);
        assertFalse(status.out().contains(" up "), status.out());

        EmendRun again = up(data, base);
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.out().contains("demo:1 (demo@production, kept from an earlier up)"), again.out());
        // the token minted before the restart still verifies: the key pair was kept
        EmendRun versions = emend("versions", "list", "demo");
        assertEquals(0, versions.exitCode(), versions.toString());
        assertEquals(2, versions.out().lines().count(), "one header, one version:\n" + versions.out());
    }

    @Test
    @Order(9)
    void servingAnswersOnTheProductionAlias() throws Exception {
        // the README's OpenAI-style call: serving resolves demo@production through the registry and loads it
        String body = "{\"model\":\"demo@production\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}";
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://localhost:" + (base + 5) + "/v1/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        JsonNode completion = JSON.readTree(answer.body());
        assertEquals("text_completion", completion.path("object").asText(), answer.body());
        assertFalse(completion.path("choices").path(0).path("text").asText().isBlank(), answer.body());
        assertTrue(completion.path("usage").path("completion_tokens").asInt() > 0, answer.body());
    }

    @Test
    @Order(10)
    void fineTuningTheDemoOverRestRegistersAnAdapterVersion() throws Exception {
        // KEY=$(./emend datasets land ... --json | jq -r '.files[0].key')
        EmendRun land = EmendRun.of("datasets", "land", "--model", "demo", "--dataset", "tour-stories", TOUR_DATA.toString(),
                "--json", "--data-dir", data.toString());
        assertEquals(0, land.exitCode(), land.toString());
        String key = JSON.readTree(land.out()).path("files").path(0).path("key").asText();
        assertTrue(key.matches("datasets/tour-stories/\\w+/stories\\.jsonl"), key);

        JsonNode accepted = call("POST", base + 2, "/v1/fine-tunes", "{\"model\":\"demo@production\",\"training_file\":\""
                + key + "\",\"hyperparameters\":{\"steps\":6,\"batch_size\":2,\"seq_len\":64}}", 202);
        JsonNode job = awaitEnd(base + 2, "/v1/fine-tunes/" + accepted.path("id").asText(), "status");
        assertEquals("succeeded", job.path("status").asText(), job.toString());
        assertEquals("demo:2", job.path("fine_tuned_model").asText(), job.toString());

        // ./emend versions show demo:2
        JsonNode version = JSON.readTree(emend("versions", "show", "demo:2", "--json").out());
        assertEquals("ready", version.path("state").asText(), version.toString());
        assertEquals("finetune", version.path("operation").asText(), version.toString());
        assertParent(version, 1, "adapter-of");
        List<String> paths = new ArrayList<>();
        version.path("manifest").forEach(f -> paths.add(f.path("path").asText()));
        assertTrue(paths.containsAll(List.of("adapter_config.json", "adapter_model.safetensors")), paths.toString());
    }

    @Test
    @Order(11)
    void aLandedDatasetMakesExactlyOneJobOfThePolicy() throws Exception {
        String policy = call("POST", base + 2, "/v1/retraining-policies", "{\"model\":\"demo\",\"datasets\":[\"tour-*\"],"
                + "\"min_new_examples\":10,\"recipe\":{\"hyperparameters\":{\"steps\":4,\"batch_size\":2,\"seq_len\":64}}}",
                201).path("id").asText();

        EmendRun land = EmendRun.of("datasets", "land", "--model", "demo", "--dataset", "tour-stories", TOUR_DATA.toString(),
                "--data-dir", data.toString());
        assertEquals(0, land.exitCode(), land.toString());
        assertTrue(land.out().startsWith("event "), land.out());
        String landedKey = land.out().lines().filter(l -> l.startsWith("datasets/tour-stories/")).findFirst()
                .orElseThrow(() -> new AssertionError(land.out())).split(" ")[0];

        // until curl -s :8082/v1/fine-tunes | jq -e '.data[0].policy_id != null'
        long deadline = System.nanoTime() + JOB_WAIT.toNanos();
        List<JsonNode> made = jobsOf(policy);
        while (made.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            made = jobsOf(policy);
        }
        assertEquals(1, made.size(), "the delivery started one job: " + made);
        JsonNode job = awaitEnd(base + 2, "/v1/fine-tunes/" + made.getFirst().path("id").asText(), "status");
        assertEquals("succeeded", job.path("status").asText(), job.toString());
        List<String> trained = new ArrayList<>();
        job.path("training_files").forEach(f -> trained.add(f.asText()));
        if (job.hasNonNull("training_file")) {
            trained.add(job.path("training_file").asText());
        }
        assertEquals(List.of(landedKey), trained, job.toString());
        // the policy names no alias: the job trains the latest ready version, the fine-tune above, and stacks on it
        assertEquals("demo:3", job.path("fine_tuned_model").asText(), job.toString());
        JsonNode version = JSON.readTree(emend("versions", "show", "demo:3", "--json").out());
        assertEquals("ready", version.path("state").asText(), version.toString());
        assertParent(version, 2, "adapter-of");
        assertEquals(1, jobsOf(policy).size(), "still one job once it ended");
    }

    @Test
    @Order(12)
    void anEditFlipsTheFactsAndARollbackMakesAVersionWithoutIt() throws Exception {
        JsonNode accepted = call("POST", base + 3, "/v1/edits", """
                {"model":"demo@production","method":"memit","gate":{"minEfficacy":1.0},"output":{"alias":"production"},
                 "requests":[{"prompt":"Lily liked to eat","subject":"Lily","target_new":"rocks","ground_truth":"cake"},
                             {"prompt":"Max was a little","subject":"Max","target_new":"cat","ground_truth":"dog"}]}""", 202);
        assertEquals("demo:1", accepted.path("parent").asText(), "fine-tunes left demo@production alone: " + accepted);
        JsonNode job = awaitEnd(base + 3, "/v1/edits/jobs/" + accepted.path("id").asText(), "state");
        assertEquals("succeeded", job.path("state").asText(), job.toString());
        assertEquals("demo:4", job.path("version").asText(), job.toString());
        assertEquals(1.0, job.path("result").path("efficacy").asDouble(), job.toString());

        JsonNode edited = JSON.readTree(emend("versions", "show", "demo:4", "--json").out());
        assertEquals("edit", edited.path("operation").asText(), edited.toString());
        assertParent(edited, 1, "edited-from");
        // flipped: the parent preferred the ground truths, the edited weights prefer the new targets
        assertEquals(0.0, edited.path("metrics").path("efficacy_before").asDouble(), edited.toString());
        assertEquals(1.0, edited.path("metrics").path("efficacy").asDouble(), edited.toString());

        JsonNode ledger = call("GET", base + 3, "/v1/models/demo/edits", null, 200);
        assertEquals(2, ledger.path("items").size(), ledger.toString());
        String max = null;
        for (JsonNode edit : ledger.path("items")) {
            assertEquals(1.0, edit.path("efficacy").asDouble(), edit.toString());
            assertEquals("demo:4", edit.path("introducedIn").asText(), edit.toString());
            if (edit.path("request").path("subject").asText().equals("Max")) {
                max = edit.path("id").asText();
            }
        }
        assertTrue(max != null, ledger.toString());

        JsonNode undo = call("DELETE", base + 3, "/v1/edits/" + max + "?alias=production", null, 202);
        assertEquals("rollback", undo.path("operation").asText(), undo.toString());
        JsonNode rollback = awaitEnd(base + 3, "/v1/edits/jobs/" + undo.path("id").asText(), "state");
        assertEquals("succeeded", rollback.path("state").asText(), rollback.toString());
        assertEquals("demo:5", rollback.path("version").asText(), rollback.toString());
        JsonNode without = JSON.readTree(emend("versions", "show", "demo:5", "--json").out());
        assertEquals("ready", without.path("state").asText(), without.toString());
        assertParent(without, 4, "edited-from");
        assertEquals(max, without.path("recipe").path("rolledBack").asText(), without.toString());
        JsonNode live = call("GET", base + 3, "/v1/models/demo/edits?version=5", null, 200);
        assertEquals(1, live.path("items").size(), live.toString());
        assertEquals("Lily", live.path("items").path(0).path("request").path("subject").asText(), live.toString());

        // ./emend lineage demo@production
        EmendRun resolve = emend("resolve", "demo@production");
        assertTrue(resolve.out().startsWith("demo@production -> demo:5 (ready, edit, "), resolve.out());
        JsonNode lineage = JSON.readTree(emend("lineage", "demo@production", "--json").out());
        assertEquals(3, lineage.path("nodes").size(), "the rollback, the edit, the import: " + lineage);
    }

    private static void assertParent(JsonNode version, int number, String role) {
        JsonNode parent = version.path("parents").path(0);
        assertEquals(1, version.path("parents").size(), version.toString());
        assertEquals("demo", parent.path("model").asText(), version.toString());
        assertEquals(number, parent.path("number").asInt(), version.toString());
        assertEquals(role, parent.path("role").asText(), version.toString());
    }

    /** The trainer's jobs a policy made. */
    private static List<JsonNode> jobsOf(String policy) throws Exception {
        List<JsonNode> made = new ArrayList<>();
        call("GET", base + 2, "/v1/fine-tunes", null, 200).path("data").forEach(j -> {
            if (policy.equals(j.path("policy_id").asText())) {
                made.add(j);
            }
        });
        return made;
    }

    /** Polls a job until {@code field} is one of the end states, as the README's {@code until} loops do. */
    private static JsonNode awaitEnd(int port, String path, String field) throws Exception {
        long deadline = System.nanoTime() + JOB_WAIT.toNanos();
        while (true) {
            JsonNode job = call("GET", port, path, null, 200);
            if (job.path(field).asText().matches("succeeded|failed|cancelled")) {
                return job;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(path + " did not end within " + JOB_WAIT + ": " + job);
            }
            Thread.sleep(1000);
        }
    }

    /** The README's curl: the admin token, JSON in and out, and the status it must answer. */
    private static JsonNode call(String method, int port, String path, String body, int status) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Bearer " + adminToken);
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> answer = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(status, answer.statusCode(), method + " " + path + ": " + answer.body());
        return JSON.readTree(answer.body());
    }

    /** A base port whose whole range (base+1..base+5, base+1012, base+1013) is free now. */
    private static int freeBase() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int candidate;
            try (ServerSocket s = new ServerSocket(0)) {
                candidate = s.getLocalPort() - 1;
            }
            int b = candidate;
            if (b >= 1024 && b + 1013 <= 65535 && IntStream.of(1, 2, 3, 4, 5, 1012, 1013).allMatch(o -> free(b + o))) {
                return b;
            }
        }
        throw new IllegalStateException("no free range of ports for the test stack");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
