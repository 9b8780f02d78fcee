package io.emend.cli.stack;

import io.emend.cli.Workspace;
import io.emend.cli.auth.Role;
import io.emend.cli.auth.SigningKeys;
import io.emend.cli.auth.TokenIssuer;
import io.emend.cli.terminal.Progress;
import io.emend.stack.KafkaBroker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The local stack as {@code ./emend up} runs it: a real KRaft broker ({@link KafkaBroker}) and the five services, each a
 * JVM of its own started from {@code services/<name>/target/quarkus-app/quarkus-run.jar}, configured to use the
 * workspace's database, object store, broker and public key, logging to {@code .emend/logs/<name>.log}.
 * The end-to-end tests start the stack through the same class.
 */
public final class LocalStack {

    /**
     * The service JVMs' options unless {@code --jvm-option} gives others: a bounded heap so five services and a broker
     * fit a laptop, the serial collector (the services are small), and what the model engine needs (Vector API, native
     * access for DJL).
     */
    public static final List<String> DEFAULT_SERVICE_JVM_OPTIONS = List.of(
            "-Xms64m", "-Xmx1g", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
            "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");

    /** How many {@link Progress} steps {@link #start} takes: ports, key, broker, launch, one per service ready. */
    public static final int START_STEPS = 4 + Component.services().size();

    static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final Duration POLL = Duration.ofMillis(250);

    /**
     * How to run the stack.
     *
     * @param ports         where it listens
     * @param startTimeout  how long every component together may take to become ready
     * @param jvmOptions    options for the service JVMs
     * @param environment   the {@code EMEND_*} variables that choose PostgreSQL or S3 (see {@link StackEnvironment})
     */
    public record Settings(StackPorts ports, Duration startTimeout, List<String> jvmOptions, StackEnvironment environment) {
        public Settings {
            jvmOptions = List.copyOf(jvmOptions);
        }
    }

    private final Workspace workspace;
    private final Settings settings;
    private final HealthProbe probe = new HealthProbe();
    /** Guards {@link #services} and {@link #broker}: {@link #stop} may run on a shutdown hook while start is waiting. */
    private final Object lock = new Object();
    private final Map<Component, Process> services = new EnumMap<>(Component.class);
    private KafkaBroker broker;
    private volatile boolean stopped;

    public LocalStack(Workspace workspace, Settings settings) {
        this.workspace = workspace;
        this.settings = settings;
    }

    public StackPorts ports() {
        return settings.ports();
    }

    /**
     * Starts everything and returns once every component is ready, recording the processes under {@code .emend/run}.
     * On any failure, what was started is stopped again and the exception says, in one line, what went wrong and
     * which log to read.
     */
    public void start(Progress progress) {
        StackPorts ports = settings.ports();
        try {
            progress.step("checking ports " + ports.port(Component.REGISTRY) + "-" + ports.port(Component.SERVING)
                    + ", " + ports.port(Component.KAFKA) + ", " + ports.kafkaController());
            Map<Integer, String> taken = PortCheck.taken(ports);
            if (!taken.isEmpty()) {
                throw new IllegalStateException(taken.entrySet().stream()
                        .map(e -> "port " + e.getKey() + " (" + e.getValue() + ")").collect(Collectors.joining(", "))
                        + (taken.size() == 1 ? " is" : " are") + " already in use; stop what holds "
                        + (taken.size() == 1 ? "it" : "them") + " (./emend status, ./emend down) or choose other ports with --base-port N");
            }
            progress.step("signing key in " + workspace.keys());
            SigningKeys.createOrLoad(workspace.keys());
            for (Path dir : List.of(workspace.logs(), workspace.database(), workspace.objects(), workspace.kafka())) {
                Files.createDirectories(dir);
            }
            progress.step("starting Kafka broker on " + ports.url(Component.KAFKA));
            startBroker();
            progress.step("starting " + Component.services().stream().map(Component::id).collect(Collectors.joining(", ")));
            for (Component c : Component.services()) {
                synchronized (lock) {
                    checkNotStopped();
                    services.put(c, launch(c));
                }
            }
            awaitReady(progress);
            synchronized (lock) {
                checkNotStopped();
                RunState.write(workspace, ports, processes());
            }
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException(e.getMessage(), e);
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** The running processes, broker first. */
    public Map<Component, ProcessHandle> processes() {
        Map<Component, ProcessHandle> all = new EnumMap<>(Component.class);
        brokerIn(workspace).ifPresent(p -> all.put(Component.KAFKA, p));
        synchronized (lock) {
            services.forEach((c, p) -> {
                if (p.isAlive()) {
                    all.put(c, p.toHandle());
                }
            });
        }
        return all;
    }

    /** Blocks until one of the stack's processes ends, and says which (for {@code up} in the foreground). */
    public Component awaitAnyExit() {
        Map<Component, ProcessHandle> running = processes();
        List<CompletableFuture<Component>> exits = new ArrayList<>();
        running.forEach((c, p) -> exits.add(p.onExit().thenApply(done -> c)));
        return (Component) CompletableFuture.anyOf(exits.toArray(CompletableFuture[]::new)).join();
    }

    /**
     * Stops the services, then the broker (services may still publish on their way down), and forgets the run state.
     * Safe to call from a shutdown hook while {@link #start} is still waiting: start sees the flag and gives up.
     */
    public void stop() {
        stopped = true;
        List<ProcessHandle> running;
        KafkaBroker startedBroker;
        synchronized (lock) {
            running = services.values().stream().map(Process::toHandle).toList();
            services.clear();
            startedBroker = broker;
            broker = null;
        }
        stop(running, STOP_GRACE);
        // The broker's own stop() waits for a start() in progress to finish; ending its process first makes that
        // start() fail at once instead of waiting out its timeout.
        brokerIn(workspace).ifPresent(b -> stop(List.of(b), STOP_GRACE));
        if (startedBroker != null) {
            startedBroker.stop();
        }
        RunState.clear(workspace);
    }

    private void checkNotStopped() {
        if (stopped) {
            throw new IllegalStateException("stopped while starting");
        }
    }

    /**
     * Asks each process to end (SIGTERM: Quarkus and Kafka shut down gracefully on it), waits up to {@code grace}
     * for all of them together, then kills the rest.
     */
    static void stop(List<ProcessHandle> processes, Duration grace) {
        processes.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle p : processes) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                p.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                p.destroyForcibly();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private void startBroker() throws IOException {
        StackPorts ports = settings.ports();
        KafkaBroker.Config config = KafkaBroker.Config.of(workspace.kafka())
                .withPort(ports.port(Component.KAFKA))
                .withControllerPort(ports.kafkaController())
                .withLogFile(workspace.log(Component.KAFKA.id()))
                .withStartTimeout(settings.startTimeout())
                // this class stops the broker itself, after the services, and leaves it running under --detach
                .withStopWithThisJvm(false);
        KafkaBroker starting = new KafkaBroker(config);
        synchronized (lock) {
            checkNotStopped();
            broker = starting;
        }
        try {
            starting.start();
        } catch (IOException e) {
            String first = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new IOException(first.replaceFirst("; log .*$", "") + "; see " + workspace.log(Component.KAFKA.id()), e);
        }
    }

    private Process launch(Component c) throws IOException {
        Path jar = workspace.serviceJar(c.id());
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(workspace.root().relativize(jar) + " is missing; build the services with"
                    + " ./mvnw -DskipTests package (./emend does this by itself)");
        }
        ServiceConfig config = configOf(c);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(settings.jvmOptions());
        config.properties().forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        Path log = workspace.log(c.id());
        Files.writeString(log, "---- " + Instant.now() + " started by emend up on port " + settings.ports().port(c) + " ----\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workspace.root().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // Only what StackEnvironment hands over may choose a database or a bucket, not whatever this JVM inherited.
        builder.environment().keySet().removeIf(k -> k.startsWith("EMEND_DB_") || k.startsWith("EMEND_S3_"));
        builder.environment().putAll(config.environment());
        builder.environment().putIfAbsent("DJL_CACHE_DIR", workspace.data().resolve("djl").toString());
        Process process = builder.start();
        process.getOutputStream().close();
        return process;
    }

    /** What one service is told at start: system properties on its command line, secrets in its environment. */
    record ServiceConfig(Map<String, String> properties, Map<String, String> environment) {
    }

    ServiceConfig configOf(Component c) {
        StackPorts ports = settings.ports();
        String bootstrap = "127.0.0.1:" + ports.port(Component.KAFKA);
        Map<String, String> properties = new LinkedHashMap<>();
        Map<String, String> environment = new LinkedHashMap<>();
        properties.put("quarkus.http.port", Integer.toString(ports.port(c)));
        properties.put("quarkus.http.host", "127.0.0.1");
        properties.put("quarkus.console.color", "false");
        properties.put("kafka.bootstrap.servers", bootstrap);
        properties.put("mp.jwt.verify.publickey.location", SigningKeys.publicKeyFile(workspace.keys()).toString());
        properties.put("mp.jwt.verify.issuer", "emend");
        if (c == Component.REGISTRY) {
            properties.put("emend.registry.relay.bootstrap-servers", bootstrap);
            settings.environment().registryDatabase(workspace, properties, environment);
            settings.environment().registryObjectStore(workspace, properties, environment);
        }
        String registryUrl = ports.url(Component.REGISTRY);
        if (c == Component.MERGER) {
            // the merger signs its own short-lived admin tokens (it moves aliases) with the stack's key
            properties.put("emend.merger.registry.url", registryUrl);
            properties.put("emend.merger.registry.signing-key", workspace.keys().resolve(SigningKeys.PRIVATE_FILE).toString());
            properties.put("emend.merger.db.h2-path", workspace.database().resolve("merger").toString());
            properties.put("emend.merger.storage.cache-dir", workspace.data().resolve("merger/cache").toString());
            properties.put("emend.merger.storage.work-dir", workspace.data().resolve("merger/work").toString());
            properties.put("emend.merger.object-store.root", workspace.objects().toString());
        }
        if (c == Component.EDITOR) {
            // the editor signs its own short-lived admin tokens (it moves aliases) with the stack's key
            properties.put("emend.editor.registry.url", registryUrl);
            properties.put("emend.editor.registry.signing-key", workspace.keys().resolve(SigningKeys.PRIVATE_FILE).toString());
            properties.put("emend.editor.db.h2-path", workspace.database().resolve("editor").toString());
            properties.put("emend.editor.storage.cache-dir", workspace.data().resolve("editor/cache").toString());
            properties.put("emend.editor.storage.work-dir", workspace.data().resolve("editor/work").toString());
        }
        if (c == Component.TRAINER) {
            // the trainer signs its own admin tokens too (a passing gate moves an alias); it reads dataset keys from
            // the registry's filesystem store (with S3 configured, give it data as registry blob digests instead)
            properties.put("emend.trainer.registry.url", registryUrl);
            properties.put("emend.trainer.registry.signing-key", workspace.keys().resolve(SigningKeys.PRIVATE_FILE).toString());
            properties.put("emend.trainer.db.h2-path", workspace.database().resolve("trainer").toString());
            properties.put("emend.trainer.storage.cache-dir", workspace.data().resolve("trainer/cache").toString());
            properties.put("emend.trainer.storage.work-dir", workspace.data().resolve("trainer/work").toString());
            properties.put("emend.trainer.object-store.root", workspace.objects().toString());
        }
        if (c == Component.SERVING) {
            // serving only reads the registry: a reader token that outlives any local session, renewed on every up
            properties.put("emend.serving.registry.url", registryUrl);
            properties.put("emend.serving.registry.cache-dir", workspace.data().resolve("serving-cache").toString());
            environment.put("EMEND_SERVING_REGISTRY_TOKEN", new TokenIssuer(SigningKeys.createOrLoad(workspace.keys()))
                    .issue("serving", Role.READER, TokenIssuer.MAX_TTL).compact());
        }
        return new ServiceConfig(properties, environment);
    }

    private void awaitReady(Progress progress) {
        long deadline = System.nanoTime() + settings.startTimeout().toNanos();
        List<Component> waiting = new ArrayList<>(Component.services());
        progress.step(waitingFor(waiting));
        while (!waiting.isEmpty()) {
            checkNotStopped();
            for (Component c : List.copyOf(waiting)) {
                Process p;
                synchronized (lock) {
                    checkNotStopped();
                    p = services.get(c);
                }
                if (!p.isAlive()) {
                    throw new IllegalStateException(c.id() + " exited with code " + p.exitValue()
                            + " before it was ready; see " + workspace.log(c.id()));
                }
                if (probe.isReady(c, settings.ports())) {
                    waiting.remove(c);
                    if (!waiting.isEmpty()) {
                        progress.step(waitingFor(waiting));
                    }
                }
            }
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(String.join(", ", waiting.stream().map(Component::id).toList())
                        + " did not become ready within " + settings.startTimeout().toSeconds() + " s; see "
                        + waiting.stream().map(c -> workspace.log(c.id()).toString()).collect(Collectors.joining(", "))
                        + " (a slow machine may need --timeout)");
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the services");
            }
        }
    }

    private static String waitingFor(List<Component> waiting) {
        return "waiting for " + waiting.stream().map(Component::id).collect(Collectors.joining(", ")) + " to be ready";
    }

    /** The broker recorded for {@code down}: it outlives the JVM that started it under {@code --detach}. */
    static Optional<ProcessHandle> brokerIn(Workspace workspace) {
        try {
            return KafkaBroker.runningIn(workspace.kafka());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
