package io.emend.bench.registry;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged registry ({@code quarkus-run.jar}) as its own JVM, the way {@code ./emend up} runs it: PostgreSQL
 * chosen at runtime by {@code emend.db.url}, a filesystem object store and the working directory under the run's
 * temporary directory, and the outbox relay off (reads never touch Kafka, and a relay with no broker would keep
 * retrying in the background of the measurement).
 */
final class RegistryProcess implements AutoCloseable {

    private static final Duration START = Duration.ofSeconds(180);

    private final Process process;
    private final int port;
    private final Path log;

    private RegistryProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static RegistryProcess start(Path jar, Path home, String dbUrl, String dbUser, Path publicKey, String heap,
            List<String> javaOptions)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException("registry jar " + jar + " not found: build it with ./mvnw -q -B"
                    + " -DskipTests -pl bench,services/registry -am package, or pass --registry-jar");
        }
        int port = freePort();
        Path log = home.resolve("registry.log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-Dquarkus.http.port=" + port,
                "-Demend.db.url=" + dbUrl,
                "-Demend.db.username=" + dbUser,
                "-Dmp.jwt.verify.publickey.location=" + publicKey,
                "-Demend.registry.object-store.kind=filesystem",
                "-Demend.registry.object-store.root=" + home.resolve("objects"),
                "-Demend.registry.relay.enabled=false",
                "-jar", jar.toAbsolutePath().toString()));
        command.addAll(1, javaOptions);
        Process process = new ProcessBuilder(command).directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        RegistryProcess registry = new RegistryProcess(process, port, log);
        try {
            registry.awaitReady();
        } catch (IOException | InterruptedException | RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    URI baseUri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** Asks the JVM to stop (SIGTERM, so Quarkus closes its pool), then kills it if it has not within 20 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest health = HttpRequest.newBuilder(baseUri().resolve("/q/health/ready"))
                .timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the registry exited with " + process.exitValue() + "; its log:\n"
                        + tail());
            }
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (ConnectException notListeningYet) {
                // still starting: the port opens once Flyway has migrated the database
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the registry was not ready within " + START + "; its log:\n" + tail());
    }

    /** The last lines of the registry's log, for error messages. */
    String tail() throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
