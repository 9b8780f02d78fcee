package io.emend.stack;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running in a child JVM on the jars of
 * {@code kafka_2.13}. The broker never shares a classpath with the caller: its jars are listed at build time in the
 * {@code kafka.classpath} resources next to this class and only ever passed to the child's {@code -cp}.
 *
 * <p>The data directory is formatted once (a fresh cluster id) and reused by every later start, so records survive a
 * {@link #stop()} and {@link #start()}. A port of 0 means "pick a free one on first start"; a restart keeps the ports
 * chosen the first time, so clients configured with {@link #bootstrapServers()} reconnect by themselves.
 *
 * <p>Files under the data directory: {@code server.properties} and {@code log4j2.properties} (rewritten on every
 * start), {@code kraft/} (the broker's log.dirs), and {@code broker.pid} while the broker runs.
 */
public final class KafkaBroker implements AutoCloseable {

    private static final String HOST = "127.0.0.1";
    private static final String CLUSTER_MARKER = "meta.properties";
    private static final int LOG_TAIL_LINES = 40;

    /**
     * How to run the broker.
     *
     * @param dataDir where the broker keeps its configuration, metadata and topic logs; created when absent
     * @param port the client (PLAINTEXT) port; 0 picks a free port on first start
     * @param controllerPort the KRaft controller port; 0 picks a free port on first start
     * @param logFile where the child JVM's output goes (appended)
     * @param startTimeout how long {@link #start()} waits for the broker to answer metadata requests
     * @param stopTimeout how long {@link #stop()} waits for a graceful shutdown before killing the process
     * @param jvmOptions options for the child JVM (heap, GC)
     * @param stopWithThisJvm whether a shutdown hook stops the broker when the calling JVM exits; false lets a
     *     launcher start the broker and leave it running
     */
    public record Config(
            Path dataDir,
            int port,
            int controllerPort,
            Path logFile,
            Duration startTimeout,
            Duration stopTimeout,
            List<String> jvmOptions,
            boolean stopWithThisJvm) {

        /**
         * Small heap and C1 only: a local broker carries little traffic, and on a busy two-core machine the C2
         * compiler is what makes start-up slow.
         */
        public static final List<String> DEFAULT_JVM_OPTIONS = List.of(
                "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true");

        public Config {
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(logFile, "logFile");
            Objects.requireNonNull(startTimeout, "startTimeout");
            Objects.requireNonNull(stopTimeout, "stopTimeout");
            checkPort("port", port);
            checkPort("controllerPort", controllerPort);
            if (port != 0 && port == controllerPort) {
                throw new IllegalArgumentException("port and controllerPort must differ, both are " + port);
            }
            if (startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, was " + startTimeout);
            }
            if (stopTimeout.isNegative()) {
                throw new IllegalArgumentException("stopTimeout must not be negative, was " + stopTimeout);
            }
            jvmOptions = List.copyOf(jvmOptions);
        }

        /** Free ports, output to {@code dataDir/broker.log}, 60 s to start, 30 s to stop, stopped with this JVM. */
        public static Config of(Path dataDir) {
            return new Config(dataDir, 0, 0, dataDir.resolve("broker.log"), Duration.ofSeconds(60),
                    Duration.ofSeconds(30), DEFAULT_JVM_OPTIONS, true);
        }

        public Config withPort(int newPort) {
            return new Config(dataDir, newPort, controllerPort, logFile, startTimeout, stopTimeout, jvmOptions,
                    stopWithThisJvm);
        }

        public Config withControllerPort(int newControllerPort) {
            return new Config(dataDir, port, newControllerPort, logFile, startTimeout, stopTimeout, jvmOptions,
                    stopWithThisJvm);
        }

        public Config withLogFile(Path newLogFile) {
            return new Config(dataDir, port, controllerPort, newLogFile, startTimeout, stopTimeout, jvmOptions,
                    stopWithThisJvm);
        }

        public Config withStartTimeout(Duration newStartTimeout) {
            return new Config(dataDir, port, controllerPort, logFile, newStartTimeout, stopTimeout, jvmOptions,
                    stopWithThisJvm);
        }

        public Config withStopTimeout(Duration newStopTimeout) {
            return new Config(dataDir, port, controllerPort, logFile, startTimeout, newStopTimeout, jvmOptions,
                    stopWithThisJvm);
        }

        public Config withJvmOptions(List<String> newJvmOptions) {
            return new Config(dataDir, port, controllerPort, logFile, startTimeout, stopTimeout, newJvmOptions,
                    stopWithThisJvm);
        }

        public Config withStopWithThisJvm(boolean newStopWithThisJvm) {
            return new Config(dataDir, port, controllerPort, logFile, startTimeout, stopTimeout, jvmOptions,
                    newStopWithThisJvm);
        }

        private static void checkPort(String name, int value) {
            if (value < 0 || value > 65535) {
                throw new IllegalArgumentException(name + " must be between 0 and 65535, was " + value);
            }
        }
    }

    private final Config config;
    private int port;
    private int controllerPort;
    private Process process;
    private Thread shutdownHook;

    public KafkaBroker(Config config) {
        this.config = Objects.requireNonNull(config, "config");
        this.port = config.port();
        this.controllerPort = config.controllerPort();
    }

    public Config config() {
        return config;
    }

    /**
     * The broker process that {@link #start()} launched for {@code dataDir}, if it is still alive, even when it was
     * started by another JVM (a launcher that stopped waiting). Read from {@code dataDir/broker.pid}.
     */
    public static Optional<ProcessHandle> runningIn(Path dataDir) throws IOException {
        Path pidFile = dataDir.resolve("broker.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile).strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(KafkaBroker::isBroker);
    }

    /**
     * Formats the data directory if this is its first start, launches the broker and returns once it answers a
     * metadata request. On failure the child is stopped and the exception carries the last lines of its log.
     *
     * @throws IllegalStateException when this broker is already running
     * @throws IOException when a port is taken, the jars are missing, formatting fails, or the broker does not answer
     *     within {@link Config#startTimeout()}
     */
    public synchronized void start() throws IOException {
        if (isRunning()) {
            throw new IllegalStateException("Kafka broker is already running at " + bootstrapServers());
        }
        Optional<ProcessHandle> other = runningIn(config.dataDir());
        if (other.isPresent()) {
            throw new IOException("another Kafka broker (pid " + other.get().pid() + ") already uses "
                    + config.dataDir());
        }
        Files.createDirectories(config.dataDir());
        Path logParent = config.logFile().toAbsolutePath().getParent();
        if (logParent != null) {
            Files.createDirectories(logParent);
        }
        choosePorts();
        String classpath = brokerClasspath();
        Path serverProperties = writeServerProperties();
        Path log4jProperties = writeLog4jProperties();

        if (!Files.exists(metadataDir().resolve(CLUSTER_MARKER))) {
            format(classpath, serverProperties, log4jProperties);
        }

        List<String> command = javaCommand(classpath, log4jProperties);
        command.add("kafka.Kafka");
        command.add(serverProperties.toString());
        Process started = new ProcessBuilder(command)
                .directory(config.dataDir().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(config.logFile().toFile()))
                .start();
        started.getOutputStream().close();
        process = started;
        Files.writeString(config.dataDir().resolve("broker.pid"), Long.toString(started.pid()));
        if (config.stopWithThisJvm()) {
            shutdownHook = new Thread(this::stop, "kafka-broker-stop");
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try {
            awaitReady(started);
        } catch (IOException | RuntimeException e) {
            stop();
            throw e;
        }
    }

    /**
     * Asks the broker to shut down (SIGTERM: a controlled shutdown that flushes its logs), waits up to
     * {@link Config#stopTimeout()}, then kills it. Does nothing when the broker is not running.
     */
    public synchronized void stop() {
        terminate(config.stopTimeout());
    }

    /** Kills the broker at once, as a crash would; its data directory recovers on the next {@link #start()}. */
    public synchronized void kill() {
        terminate(Duration.ZERO);
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The running broker's process, or empty when it is stopped. */
    public synchronized Optional<ProcessHandle> process() {
        return isRunning() ? Optional.of(process.toHandle()) : Optional.empty();
    }

    /** The client port: the configured one, or the free port chosen on first start. */
    public synchronized int port() {
        if (port == 0) {
            throw new IllegalStateException("the broker's port is chosen on first start; call start() first");
        }
        return port;
    }

    /** {@code host:port} for {@code bootstrap.servers}; stable across restarts of this instance. */
    public String bootstrapServers() {
        return HOST + ":" + port();
    }

    @Override
    public void close() {
        stop();
    }

    private void terminate(Duration grace) {
        Process running = process;
        process = null;
        if (running != null && running.isAlive()) {
            if (grace.isZero()) {
                running.destroyForcibly();
            } else {
                running.destroy();
            }
            try {
                if (!running.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    running.destroyForcibly();
                }
                running.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                running.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (running != null) {
            try {
                Files.deleteIfExists(config.dataDir().resolve("broker.pid"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove " + config.dataDir().resolve("broker.pid"), e);
            }
        }
        Thread hook = shutdownHook;
        shutdownHook = null;
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the JVM is exiting and runs the hook itself; nothing left to unregister
            }
        }
    }

    private Path metadataDir() {
        return config.dataDir().resolve("kraft");
    }

    private void choosePorts() throws IOException {
        if (port == 0 || controllerPort == 0) {
            // Both sockets stay open until both ports are known, so the two choices cannot collide.
            try (ServerSocket a = new ServerSocket(0, 1, InetAddress.getByName(HOST));
                    ServerSocket b = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
                if (port == 0) {
                    port = a.getLocalPort();
                }
                if (controllerPort == 0) {
                    controllerPort = b.getLocalPort() != port ? b.getLocalPort() : a.getLocalPort();
                }
            }
        }
        checkFree(port, "client");
        checkFree(controllerPort, "controller");
    }

    private static void checkFree(int candidate, String role) throws IOException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(InetAddress.getByName(HOST), candidate));
        } catch (IOException e) {
            throw new IOException("Kafka " + role + " port " + HOST + ":" + candidate
                    + " is already in use (another broker still running?)", e);
        }
    }

    private Path writeServerProperties() throws IOException {
        // One node acting as broker and controller, with every internal topic at replication factor 1
        // (the defaults of 3 cannot be met by one node). Few threads and one partition per internal topic keep
        // start-up and the first consumer group quick on a small machine.
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("process.roles", "broker,controller");
        settings.put("node.id", "1");
        settings.put("controller.quorum.voters", "1@" + HOST + ":" + controllerPort);
        settings.put("controller.listener.names", "CONTROLLER");
        settings.put("listeners", "PLAINTEXT://" + HOST + ":" + port + ",CONTROLLER://" + HOST + ":" + controllerPort);
        settings.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + port);
        settings.put("inter.broker.listener.name", "PLAINTEXT");
        settings.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        settings.put("log.dirs", metadataDir().toAbsolutePath().toString());
        settings.put("auto.create.topics.enable", "true");
        settings.put("num.partitions", "1");
        settings.put("default.replication.factor", "1");
        settings.put("min.insync.replicas", "1");
        settings.put("offsets.topic.replication.factor", "1");
        settings.put("offsets.topic.num.partitions", "1");
        settings.put("transaction.state.log.replication.factor", "1");
        settings.put("transaction.state.log.min.isr", "1");
        settings.put("transaction.state.log.num.partitions", "1");
        settings.put("share.coordinator.state.topic.replication.factor", "1");
        settings.put("share.coordinator.state.topic.min.isr", "1");
        settings.put("group.initial.rebalance.delay.ms", "0");
        settings.put("log.segment.bytes", Integer.toString(16 * 1024 * 1024));
        settings.put("num.network.threads", "2");
        settings.put("num.io.threads", "2");
        settings.put("num.recovery.threads.per.data.dir", "1");
        settings.put("background.threads", "2");
        Properties properties = new Properties();
        properties.putAll(settings);
        Path file = config.dataDir().resolve("server.properties");
        try (var out = Files.newOutputStream(file)) {
            properties.store(out, "written by io.emend.stack.KafkaBroker on every start");
        }
        return file;
    }

    private Path writeLog4jProperties() throws IOException {
        // Kafka logs through log4j2; without a configuration it prints errors only. INFO to stdout, which the
        // child's output redirect sends to the log file; the per-request loggers stay quiet.
        String text = """
                status = warn
                appender.out.type = Console
                appender.out.name = out
                appender.out.layout.type = PatternLayout
                appender.out.layout.pattern = [%d] %p %m (%c)%n
                rootLogger.level = INFO
                rootLogger.appenderRef.out.ref = out
                logger.request.name = kafka.request.logger
                logger.request.level = WARN
                logger.requestchannel.name = kafka.network.RequestChannel$
                logger.requestchannel.level = WARN
                logger.statechange.name = state.change.logger
                logger.statechange.level = WARN
                """;
        Path file = config.dataDir().resolve("log4j2.properties");
        Files.writeString(file, text);
        return file;
    }

    private void format(String classpath, Path serverProperties, Path log4jProperties) throws IOException {
        // Uuid.randomUuid() is what "kafka-storage random-uuid" prints; calling it here saves a JVM start.
        String clusterId = Uuid.randomUuid().toString();
        List<String> command = javaCommand(classpath, log4jProperties);
        command.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c",
                serverProperties.toString()));
        Process formatter = new ProcessBuilder(command)
                .directory(config.dataDir().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(config.logFile().toFile()))
                .start();
        formatter.getOutputStream().close();
        try {
            if (!formatter.waitFor(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                formatter.destroyForcibly();
                throw new IOException("formatting Kafka storage in " + metadataDir() + " took longer than "
                        + config.startTimeout() + logTail());
            }
        } catch (InterruptedException e) {
            formatter.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while formatting Kafka storage in " + metadataDir());
        }
        if (formatter.exitValue() != 0) {
            throw new IOException("formatting Kafka storage in " + metadataDir() + " failed with exit code "
                    + formatter.exitValue() + logTail());
        }
    }

    private List<String> javaCommand(String classpath, Path log4jProperties) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(config.jvmOptions());
        command.add("-Dlog4j2.configurationFile=" + log4jProperties.toAbsolutePath());
        command.add("-cp");
        command.add(classpath);
        return command;
    }

    private void awaitReady(Process started) throws IOException {
        long deadline = System.nanoTime() + config.startTimeout().toNanos();
        // The port opens before the broker has caught up with its metadata log; a metadata answer that lists this
        // node means the broker is unfenced and serves produce and consume requests.
        while (!portAnswers()) {
            checkAlive(started);
            checkDeadline(deadline);
            pause();
        }
        Properties adminConfig = new Properties();
        adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        adminConfig.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        adminConfig.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        try (Admin admin = Admin.create(adminConfig)) {
            while (true) {
                checkAlive(started);
                try {
                    var cluster = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000));
                    if (!cluster.nodes().get(3, TimeUnit.SECONDS).isEmpty()
                            && cluster.controller().get(3, TimeUnit.SECONDS) != null) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException notYet) {
                    // still starting: the next round asks again
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for the Kafka broker");
                }
                checkDeadline(deadline);
                pause();
            }
        }
    }

    private boolean portAnswers() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void checkAlive(Process started) throws IOException {
        if (!started.isAlive()) {
            throw new IOException("Kafka broker exited with code " + started.exitValue() + " during start-up"
                    + logTail());
        }
    }

    private void checkDeadline(long deadline) throws IOException {
        if (System.nanoTime() - deadline > 0) {
            throw new IOException("Kafka broker did not answer on " + bootstrapServers() + " within "
                    + config.startTimeout() + logTail());
        }
    }

    private static void pause() throws InterruptedIOException {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the Kafka broker");
        }
    }

    private String logTail() {
        Deque<String> tail = new ArrayDeque<>();
        try (Stream<String> lines = Files.lines(config.logFile(), StandardCharsets.UTF_8)) {
            lines.forEach(line -> {
                tail.addLast(line);
                if (tail.size() > LOG_TAIL_LINES) {
                    tail.removeFirst();
                }
            });
        } catch (IOException | UncheckedIOException e) {
            return " (log " + config.logFile() + " unreadable: " + e.getMessage() + ")";
        }
        return "; log " + config.logFile() + " ends with:\n" + String.join("\n", tail);
    }

    private static boolean isBroker(ProcessHandle handle) {
        return handle.info().arguments()
                .map(arguments -> List.of(arguments).contains("kafka.Kafka"))
                .orElse(true);
    }

    /** The broker's jars, as resolved by Maven when this module was built; each must still exist. */
    static String brokerClasspath() throws IOException {
        List<String> entries = new ArrayList<>();
        for (String resource : List.of("kafka.classpath", "kafka-clients.classpath")) {
            try (InputStream in = KafkaBroker.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IOException("resource io/emend/stack/" + resource
                            + " is missing: build the stack module with Maven first");
                }
                for (String entry : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip()
                        .split(File.pathSeparator)) {
                    if (!entry.isBlank() && !entries.contains(entry)) {
                        entries.add(entry);
                    }
                }
            }
        }
        for (String entry : entries) {
            if (!Files.exists(Path.of(entry))) {
                throw new IOException("Kafka broker jar " + entry
                        + " is missing from the local Maven repository: rebuild the stack module to fetch it");
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
