package io.emend.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import io.emend.cli.auth.SigningKeys;
import io.emend.cli.registry.ScriptedServer.Answer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegistryClientTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DEMO_V1 = """
            {"id":"0b6c","model":"demo","number":1,"state":"ready","operation":"import","recipe":{"path":"/m"},
             "metrics":{},"parents":[],"createdAt":"2025-06-01T12:00:00Z",
             "manifest":[{"path":"config.json","sha256":"aa11bb22cc33dd44","size":503,"mediaType":"application/json","present":true}]}""";

    @TempDir
    Path dataDir;

    private ScriptedServer registry;

    @BeforeEach
    void start() throws Exception {
        registry = new ScriptedServer();
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    private EmendRun emend(String... args) {
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--registry";
        all[args.length + 1] = registry.url();
        all[args.length + 2] = "--data-dir";
        all[args.length + 3] = dataDir.toString();
        return EmendRun.of(all);
    }

    @Test
    void problemDetailBecomesOneLineAndExitOne() {
        registry.on("GET /v1/models/ghost", Answer.problem(404, """
                {"type":"https://emend.io/problems/model-not-found","title":"Model not found","status":404,
                 "detail":"model 'ghost' does not exist","instance":"/v1/models/ghost"}"""));
        EmendRun run = emend("models", "show", "ghost");
        assertEquals(1, run.exitCode(), run.toString());
        assertEquals("emend models show: model 'ghost' does not exist (HTTP 404)", run.err().strip());
        assertEquals("", run.out());
    }

    @Test
    void validationErrorsNameTheirFields() {
        registry.on("POST /v1/models", Answer.problem(400, """
                {"title":"Bad request","status":400,"detail":"the model is invalid",
                 "errors":[{"field":"name","message":"must match ^[a-z0-9][a-z0-9._-]{0,63}$"},{"field":"tags[0]","message":"must not be blank"}]}"""));
        EmendRun run = emend("models", "create", "ok-name", "--tag", " ");
        assertEquals(1, run.exitCode(), run.toString());
        assertEquals(1, run.err().lines().count(), run.toString());
        assertTrue(run.err().contains("the model is invalid (name: must match"), run.toString());
        assertTrue(run.err().contains("tags[0]: must not be blank) (HTTP 400)"), run.toString());
    }

    @Test
    void unauthorizedAndForbiddenSayWhichTokenToGet() {
        registry.on("GET /v1/models?page=0&size=20", Answer.problem(401, "{\"title\":\"Unauthorized\",\"status\":401}"));
        EmendRun run = emend("models", "list");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("Unauthorized (HTTP 401); the registry wants a valid token: export EMEND_TOKEN=$(./emend token --role reader)"), run.err());

        registry.on("PUT /v1/models/demo/aliases/production", Answer.problem(403,
                "{\"title\":\"Forbidden\",\"status\":403,\"detail\":\"moving an alias needs the admin role\"}"));
        EmendRun forbidden = emend("aliases", "set", "demo@production", "2", "--token", "abc");
        assertEquals(1, forbidden.exitCode());
        assertTrue(forbidden.err().contains("moving an alias needs the admin role (HTTP 403); your token's role is too weak"), forbidden.err());
    }

    @Test
    void anHtmlErrorPageBecomesStatusAndRequest() {
        registry.on("GET /v1/resolve/demo@production", new Answer(502, "text/html", "<html><body>Bad Gateway</body></html>"));
        EmendRun run = emend("resolve", "demo@production");
        assertEquals(1, run.exitCode());
        assertEquals("emend resolve: the registry refused GET /v1/resolve/demo@production (HTTP 502)", run.err().strip());
    }

    @Test
    void aSuccessThatIsNotJsonIsReportedAsTheWrongServer() {
        registry.on("GET /v1/models/demo", new Answer(200, "text/html", "<html>welcome to nginx</html>"));
        EmendRun run = emend("models", "show", "demo");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("is --registry pointing at the Emend registry?"), run.err());
    }

    @Test
    void nothingListeningSaysHowToStartTheStack() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmendRun run = EmendRun.of("models", "list", "--registry", "http://127.0.0.1:" + port, "--data-dir", dataDir.toString());
        assertEquals(1, run.exitCode());
        assertEquals("emend models list: cannot reach the registry at http://127.0.0.1:" + port
                + "; start the stack with ./emend up, or point --registry (or EMEND_REGISTRY_URL) at it", run.err().strip());
    }

    @Test
    void listSendsTheQueryAndPrintsATableOrTheJson() throws Exception {
        String page = """
                {"items":[{"name":"demo","description":"d","family":"llama","tags":["tiny","story"],"archived":false,"createdAt":"2025-06-01T12:00:00Z"}],
                 "page":0,"size":20,"total":1}""";
        registry.on("GET /v1/models?tag=tiny+story&page=0&size=20", Answer.json(200, page));
        EmendRun run = emend("models", "list", "--tag", "tiny story");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("application/json", registry.last().accept());
        String[] lines = run.out().split("\n");
        assertTrue(lines[0].matches("NAME\\s+FAMILY\\s+TAGS\\s+ARCHIVED\\s+CREATED"), lines[0]);
        assertTrue(lines[1].matches("demo\\s+llama\\s+tiny,story\\s+false\\s+2025-06-01T12:00:00Z"), lines[1]);

        EmendRun json = emend("models", "list", "--tag", "tiny story", "--json");
        assertEquals(JSON.readTree(page), JSON.readTree(json.out()));
    }

    @Test
    void explicitTokenIsSentAsBearer() {
        registry.on("GET /v1/models/demo", Answer.json(200, "{\"name\":\"demo\",\"tags\":[]}"));
        assertEquals(0, emend("models", "show", "demo", "--token", "header.claims.sig").exitCode());
        assertEquals("Bearer header.claims.sig", registry.last().authorization());
    }

    @Test
    void withoutTokenOrKeysNoAuthorizationIsSent() {
        registry.on("GET /v1/models/demo", Answer.json(200, "{\"name\":\"demo\",\"tags\":[]}"));
        assertEquals(0, emend("models", "show", "demo").exitCode());
        assertNull(registry.last().authorization());
    }

    @Test
    void withLocalKeysAShortLivedAdminTokenIsMinted() throws Exception {
        SigningKeys keys = SigningKeys.createOrLoad(dataDir.resolve("keys"));
        registry.on("GET /v1/models/demo", Answer.json(200, "{\"name\":\"demo\",\"tags\":[]}"));
        assertEquals(0, emend("models", "show", "demo").exitCode());
        String[] parts = registry.last().authorization().substring("Bearer ".length()).split("\\.");
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initVerify(keys.publicKey());
        rs256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        assertTrue(rs256.verify(Base64.getUrlDecoder().decode(parts[2])));
        JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
        assertTrue(claims.path("groups").toString().contains("admin"));
        assertTrue(claims.path("exp").asLong() - claims.path("iat").asLong() <= 600);
    }

    @Test
    void importSendsTheAbsolutePathAndAlias() throws Exception {
        registry.on("POST /v1/models/demo/imports", Answer.json(201, DEMO_V1));
        Path model = dataDir.resolve("../" + dataDir.getFileName()).resolve(".");
        EmendRun run = emend("models", "import", "demo", model.toString(), "--alias", "production");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode sent = JSON.readTree(registry.last().body());
        assertEquals(dataDir.toAbsolutePath().normalize().toString(), sent.path("path").asText());
        assertEquals("production", sent.path("alias").asText());
        assertTrue(run.out().startsWith("imported demo:1 (ready) from " + dataDir.toAbsolutePath().normalize()
                + "; demo@production -> 1"), run.out());
    }

    @Test
    void versionsShowResolvesAnAliasThenFetchesTheVersion() {
        registry.on("GET /v1/resolve/demo@production", Answer.json(200, "{\"model\":\"demo\",\"number\":1,\"state\":\"ready\"}"));
        registry.on("GET /v1/models/demo/versions/1", Answer.json(200, DEMO_V1));
        EmendRun run = emend("versions", "show", "demo@production");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().matches("(?s)version:\\s+demo:1\n.*"), run.out());
        assertTrue(run.out().matches("(?s).*\nstate:\\s+ready\n.*"), run.out());
        assertTrue(run.out().matches("(?s).*\n\nPATH.*config\\.json\\s+503\\s+aa11bb22cc33\\s+application/json\\s+true.*"), run.out());

        registry.requests.clear();
        assertEquals(0, emend("versions", "show", "demo:1").exitCode());
        assertEquals(1, registry.requests.size(), "a numbered reference needs no resolve");
    }

    @Test
    void aliasSetSendsTheExpectedVersionAndRollbackPosts() throws Exception {
        registry.on("PUT /v1/models/demo/aliases/production", Answer.json(200, "{\"name\":\"production\",\"model\":\"demo\",\"version\":2}"));
        EmendRun run = emend("aliases", "set", "demo@production", "2", "--expect", "1");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(JSON.readTree("{\"version\":2,\"expectedVersion\":1}"), JSON.readTree(registry.last().body()));
        assertEquals("demo@production -> demo:2", run.out().strip());

        registry.on("POST /v1/models/demo/aliases/production/rollback", Answer.problem(409,
                "{\"title\":\"Conflict\",\"status\":409,\"detail\":\"alias 'production' has no earlier version\"}"));
        EmendRun rollback = emend("aliases", "rollback", "demo@production");
        assertEquals(1, rollback.exitCode());
        assertEquals("emend aliases rollback: alias 'production' has no earlier version (HTTP 409)", rollback.err().strip());
    }

    @Test
    void lineageAsksForMermaidText() {
        registry.on("GET /v1/models/demo/versions/2/lineage?direction=ancestors",
                new Answer(200, "text/vnd.mermaid", "graph TD\n  demo_1 -->|base| demo_2\n"));
        EmendRun run = emend("lineage", "demo:2", "--direction", "ancestors", "--mermaid");
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("text/vnd.mermaid", registry.last().accept());
        assertEquals("graph TD\n  demo_1 -->|base| demo_2\n", run.out());
    }

    @Test
    void lineageTableListsNodesAndEdges() {
        registry.on("GET /v1/resolve/demo", Answer.json(200, "{\"model\":\"demo\",\"number\":2}"));
        registry.on("GET /v1/models/demo/versions/2/lineage?direction=both", Answer.json(200, """
                {"root":{"model":"demo","number":2},
                 "nodes":[{"model":"demo","number":1,"operation":"import","state":"ready"},
                          {"model":"demo","number":2,"operation":"finetune","state":"ready"}],
                 "edges":[{"from":{"model":"demo","number":1},"to":{"model":"demo","number":2},"role":"base"}]}"""));
        EmendRun run = emend("lineage", "demo");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().matches("(?s).*demo:1\\s+import\\s+ready.*demo:2\\s+finetune\\s+ready.*demo:1\\s+demo:2\\s+base.*"), run.out());
    }

    @Test
    void noPathEverCarriesAnUncheckedName() {
        EmendRun run = emend("resolve", "demo@prod/../../admin");
        assertEquals(2, run.exitCode());
        assertTrue(registry.requests.isEmpty());
        assertFalse(run.err().isEmpty());
    }
}
