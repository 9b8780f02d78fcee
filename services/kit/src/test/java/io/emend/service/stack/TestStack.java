package io.emend.service.stack;

import io.emend.contracts.event.Topics;
import io.emend.stack.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * The real components a job service talks to, started once for the test run: a Kafka broker (child JVM) with Emend's
 * topics, two fresh PostgreSQL databases, and the registry itself, its packaged app
 * ({@code services/registry/target/quarkus-app}) run as a child process against one of them. A fresh RS256 key pair
 * signs every token: the registry and the service verify with its public half, and the service signs its own registry
 * tokens with the private half, as under {@code ./emend up}.
 *
 * <p>A service's tests name a subclass with a no-argument constructor in {@code @QuarkusTestResource}, e.g.
 * {@code MergerTestStack extends TestStack { MergerTestStack() { super("merger"); } }}; it answers the service's
 * {@code emend.<service>.db|registry|events|storage} keys and may add its own by overriding {@link #start()}.
 */
public class TestStack implements QuarkusTestResourceLifecycleManager {

    /** Where the key pair is written; {@link Tokens} reads the private key from here. */
    public static final Path KEYS = Path.of("target", "test-keys").toAbsolutePath();
    private static final String POSTGRES = System.getProperty("emend.test.postgres", "127.0.0.1:5432");
    private static final Duration REGISTRY_START = Duration.ofSeconds(120);

    private final String service;
    private final List<String> databases = new ArrayList<>();
    private KafkaBroker broker;
    private Process registry;
    /** A fresh directory for this run: the broker's log, the registry's object store, the service's storage. */
    protected Path scratch;

    /** @param service the service under test, the middle of its configuration keys {@code emend.<service>.*} */
    protected TestStack(String service) {
        this.service = service;
    }

    /**
     * Whether the registry relays its outbox (version and alias events) to the broker; off unless a service's tests
     * consume those events (the editor's retention checks do).
     */
    protected boolean registryEvents() {
        return false;
    }

    /** The registry's object store, a directory (its blobs live under {@code blobs/sha256/}). */
    protected Path registryObjects() {
        return scratch.resolve("registry").resolve("objects");
    }

    @Override
    public Map<String, String> start() {
        try {
            scratch = Files.createTempDirectory("emend-" + service + "-test");
            writeKeys();
            String registryDb = createDatabase("emend_" + service + "_registry_");
            String serviceDb = createDatabase("emend_" + service + "_");
            int registryPort = freePort();
            broker = new KafkaBroker(KafkaBroker.Config.of(scratch.resolve("kafka")));
            broker.start();
            createTopics(broker.bootstrapServers());
            registry = startRegistry(registryPort, registryDb);
            String registryUrl = "http://127.0.0.1:" + registryPort;
            awaitRegistry(registryUrl);
            String prefix = "emend." + service + ".";
            return new HashMap<>(Map.ofEntries(
                    Map.entry(prefix + "db.url", "jdbc:postgresql://" + POSTGRES + "/" + serviceDb),
                    Map.entry(prefix + "db.username", "postgres"),
                    Map.entry(prefix + "registry.url", registryUrl),
                    Map.entry(prefix + "registry.signing-key", KEYS.resolve("private.pem").toString()),
                    Map.entry("mp.jwt.verify.publickey.location", KEYS.resolve("public.pem").toUri().toString()),
                    Map.entry(prefix + "events.bootstrap-servers", broker.bootstrapServers()),
                    Map.entry(prefix + "storage.cache-dir", scratch.resolve("cache").toString()),
                    Map.entry(prefix + "storage.work-dir", scratch.resolve("work").toString())));
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException("the " + service + "'s test stack did not start", e);
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    @Override
    public void stop() {
        if (registry != null) {
            registry.destroy();
            try {
                if (!registry.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    registry.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                registry.destroyForcibly();
            }
        }
        if (broker != null) {
            broker.close();
        }
        for (String db : databases) {
            admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
        }
    }

    private Process startRegistry(int port, String database) throws IOException {
        Path root = Path.of(System.getProperty("emend.root", "../..")).toAbsolutePath();
        Path jar = root.resolve("services/registry/target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the " + service + "'s tests run the real registry;"
                    + " build it first (./mvnw -pl services/" + service + " -am verify builds it as part of the reactor,"
                    + " when the service's pom has the test-scoped emend-registry pom dependency)");
        }
        Path dir = Files.createDirectories(scratch.resolve("registry"));
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-Dquarkus.http.port=" + port,
                "-Dquarkus.http.host=127.0.0.1",
                "-Demend.db.url=jdbc:postgresql://" + POSTGRES + "/" + database,
                "-Demend.db.username=postgres",
                "-Dmp.jwt.verify.publickey.location=" + KEYS.resolve("public.pem"),
                "-Demend.registry.relay.enabled=" + registryEvents(),
                "-Demend.registry.relay.bootstrap-servers=" + broker.bootstrapServers(),
                "-Demend.registry.object-store.root=" + dir.resolve("objects"),
                "-jar", jar.toString());
        return new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile()).start();
    }

    private void awaitRegistry(String url) {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + REGISTRY_START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!registry.isAlive()) {
                throw new IllegalStateException("the registry exited with " + registry.exitValue() + "; see "
                        + scratch.resolve("registry/registry.log"));
            }
            try {
                HttpResponse<Void> answer = http.send(HttpRequest.newBuilder(URI.create(url + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("the registry was not ready within " + REGISTRY_START.toSeconds() + " s; see "
                + scratch.resolve("registry/registry.log"));
    }

    private static void writeKeys() throws IOException {
        KeyPair pair;
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            pair = generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has RSA", e);
        }
        Files.createDirectories(KEYS);
        Files.writeString(KEYS.resolve("private.pem"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        Files.writeString(KEYS.resolve("public.pem"), pem("PUBLIC KEY", pair.getPublic().getEncoded()));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private String createDatabase(String prefix) {
        String name = prefix + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        admin("CREATE DATABASE " + name);
        databases.add(name);
        return name;
    }

    private static void admin(String sql) {
        try (Connection connection = DriverManager.getConnection("jdbc:postgresql://" + POSTGRES + "/postgres",
                "postgres", "");
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + POSTGRES + " refused: " + sql, e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Every Emend topic, one partition each: consumers subscribe before anything is published. */
    private static void createTopics(String bootstrap) {
        Properties settings = new Properties();
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        List<String> topics = List.of(Topics.JOBS, Topics.DATASETS, Topics.VERSIONS, Topics.ALIASES);
        try (Admin admin = Admin.create(settings)) {
            admin.createTopics(topics.stream().map(t -> new NewTopic(t, 1, (short) 1)).toList()).all().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create " + topics, e.getCause());
        }
    }
}
