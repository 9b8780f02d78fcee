package io.emend.registry;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.Topics;
import io.emend.registry.outbox.EventLog;
import io.emend.stack.KafkaBroker;
import io.restassured.RestAssured;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The packaged registry as {@code ./emend up} runs it: its own JVM, working directory holding {@code .emend/}, the
 * embedded H2 file database and filesystem object store by default. The first process commits changes (and their
 * outbox rows) with its relay off, then is killed with SIGKILL, so nothing was published; the second process, same
 * directory, relay on, finds the rows and publishes them.
 */
class RegistryCrashIT {

    private static final Duration START = Duration.ofSeconds(120);

    private Path home;
    private KafkaBroker broker;
    private Process registry;
    private int port;

    @BeforeEach
    void startBroker() throws IOException {
        home = Files.createTempDirectory("emend-registry-it");
        broker = new KafkaBroker(KafkaBroker.Config.of(home.resolve("kafka")));
        broker.start();
        KafkaBrokerResource.createTopics(broker.bootstrapServers());
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        RestAssured.port = port;
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (registry != null) {
            registry.destroy();
            registry.waitFor();
        }
        broker.close();
        RestAssured.reset();
        try (var walk = Files.walk(home)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void publishesAfterARestartWhatACrashedProcessCommitted() throws Exception {
        registry = start(false, "first");
        String model = Registry.createModel("crash");
        byte[] weights = "weights of a model that survives a crash".getBytes();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(weights));
        int number = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(Map.of("path", "model.safetensors", "sha256", sha, "size", weights.length))));
        as(Tokens.writer()).header("X-Emend-Sha256", sha).contentType("application/octet-stream").body(weights)
                .put("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(201);
        Registry.ready(model, number);
        Registry.moveAlias(model, "production", number);
        as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(200)
                .body("number", equalTo(number), "manifest[0].present", equalTo(true));

        registry.destroyForcibly().waitFor();
        assertEquals(List.of(), EventLog.read(broker.bootstrapServers(), Topics.VERSIONS, model, r -> false,
                Duration.ofSeconds(2), Duration.ZERO), "the first process published nothing");

        registry = start(true, "second");
        as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(200)
                .body("number", equalTo(number));
        byte[] back = as(Tokens.reader()).get("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(200).extract().asByteArray();
        assertEquals(new String(weights), new String(back));

        List<Event<?>> versions = EventLog.deduplicated(EventLog.read(broker.bootstrapServers(), Topics.VERSIONS,
                model, r -> r.size() >= 2, Duration.ofSeconds(60), Duration.ofSeconds(1)));
        assertEquals(List.of(EventTypes.VERSION_CREATED, EventTypes.VERSION_READY),
                versions.stream().map(Event::type).toList());
        List<Event<?>> aliases = EventLog.deduplicated(EventLog.read(broker.bootstrapServers(), Topics.ALIASES,
                model, r -> !r.isEmpty(), Duration.ofSeconds(60), Duration.ofSeconds(1)));
        assertEquals(List.of(new AliasMoved(model, "production", number, null)),
                aliases.stream().map(Event::data).toList());
    }

    private Process start(boolean relay, String name) throws Exception {
        Path jar = Path.of(java.util.Objects.requireNonNull(System.getProperty("emend.registry.jar"),
                "emend.registry.jar is set by failsafe, which runs this test after the package phase"));
        Path publicKey = Path.of(RegistryCrashIT.class.getResource("/keys/test-public.pem").toURI());
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-Dquarkus.http.port=" + port,
                "-Dmp.jwt.verify.publickey.location=" + publicKey,
                "-Demend.registry.relay.enabled=" + relay,
                "-Demend.registry.relay.bootstrap-servers=" + broker.bootstrapServers(),
                "-jar", jar.toString()));
        Process process = new ProcessBuilder(command).directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve(name + ".log").toFile()))
                .start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("registry exited: " + Files.readString(home.resolve(name + ".log")));
            }
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return process;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        process.destroyForcibly();
        throw new IllegalStateException("registry not ready in " + START + ": "
                + Files.readString(home.resolve(name + ".log")));
    }
}
