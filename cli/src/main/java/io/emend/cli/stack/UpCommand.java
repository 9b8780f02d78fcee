package io.emend.cli.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.cli.DurationConverter;
import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import io.emend.cli.auth.Role;
import io.emend.cli.auth.SigningKeys;
import io.emend.cli.auth.TokenIssuer;
import io.emend.cli.registry.ModelsCommand;
import io.emend.cli.registry.RegistryClient;
import io.emend.cli.registry.RegistryException;
import io.emend.cli.terminal.Progress;
import io.emend.cli.terminal.Table;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

@Command(name = "up",
        mixinStandardHelpOptions = true,
        description = {
                "Starts the local stack: a Kafka broker, the registry, trainer, editor, merger and serving services.",
                "Data lives under .emend (keys, Kafka log, H2 database, objects, logs) and is reused by the next up.",
                "The first up imports models/demo as the model 'demo' and points demo@production at it.",
                "Without --detach it runs until Ctrl-C and then stops everything.",
                "Environment: EMEND_DB_URL/EMEND_DB_USERNAME/EMEND_DB_PASSWORD (PostgreSQL instead of H2),",
                "EMEND_S3_BUCKET/EMEND_S3_ENDPOINT/EMEND_S3_REGION/EMEND_S3_ACCESS_KEY/EMEND_S3_SECRET_KEY (S3 objects),",
                "EMEND_SERVICE_JVM_OPTIONS (service JVM options)."
        })
public final class UpCommand implements Callable<Integer> {

    static final String DEMO_MODEL = "demo";
    static final String DEMO_ALIAS = "production";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--detach", description = "Return once everything is ready and leave the stack running (stop it with ./emend down).")
    boolean detach;

    @Option(names = "--base-port", paramLabel = "N", defaultValue = "" + StackPorts.DEFAULT_BASE,
            description = "Services listen on N+1..N+5 (registry, trainer, editor, merger, serving), Kafka on N+1012 and N+1013 (default: ${DEFAULT-VALUE}).")
    int basePort;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "3m", converter = DurationConverter.class,
            description = "How long the stack may take to become ready (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--jvm-option", paramLabel = "OPTION",
            description = "An option for the service JVMs, e.g. --jvm-option=-Xmx4g; repeat for more. Replaces"
                    + " $EMEND_SERVICE_JVM_OPTIONS and the defaults (-Xmx1g, serial GC, Vector API).")
    List<String> jvmOptions;

    @Option(names = "--json", description = "Print what runs where as JSON instead of a table.")
    boolean json;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Workspace workspace = workspaceOption.workspace();
        StackPorts ports;
        try {
            ports = new StackPorts(basePort);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be positive");
        }
        Optional<RunState> running = RunState.read(workspace);
        if (running.isPresent() && !running.get().processes().isEmpty()) {
            throw new IllegalStateException("a stack from " + workspace.data() + " is already running (pids "
                    + running.get().processes().values().stream().map(p -> Long.toString(p.pid())).toList()
                    + "); ./emend status shows it, ./emend down stops it");
        }
        running.ifPresent(stale -> RunState.clear(workspace));

        StackEnvironment environment = StackEnvironment.ofProcess();
        LocalStack stack = new LocalStack(workspace,
                new LocalStack.Settings(ports, timeout, serviceJvmOptions(), environment));
        AtomicBoolean stopping = new AtomicBoolean();
        Thread hook = new Thread(() -> {
            stopping.set(true);
            stack.stop();
        }, "emend-up-stop");
        if (!detach) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
        String demo;
        try (Progress progress = new Progress(err, Progress.terminalAttached(), LocalStack.START_STEPS + 1)) {
            stack.start(progress);
            progress.step("demo model");
            demo = ensureDemo(workspace, ports);
        } catch (RuntimeException e) {
            if (stopping.get()) {
                // Ctrl-C while starting: the hook stops what was started; nothing else to say.
                hook.join();
                return 1;
            }
            if (detach && stack.processes().size() == Component.values().length) {
                throw new IllegalStateException(e.getMessage() + "; the stack is still running (./emend down stops it)", e);
            }
            stack.stop();
            if (!detach) {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
            throw e;
        }
        report(out, workspace, ports, stack, environment, demo);
        if (detach) {
            err.println("Ready. ./emend status checks it, ./emend logs NAME shows a log, ./emend down stops it.");
            err.flush();
            return 0;
        }
        err.println("Ready. Ctrl-C stops everything.");
        err.flush();
        Component ended = stack.awaitAnyExit();
        if (stopping.get()) {
            hook.join();
            return 0;
        }
        boolean askedToStop = RunState.read(workspace).isEmpty();
        stack.stop();
        Runtime.getRuntime().removeShutdownHook(hook);
        if (askedToStop) {
            err.println("Stopped by ./emend down.");
            err.flush();
            return 0;
        }
        err.println("emend up: " + ended.id() + " stopped unexpectedly, so the stack was stopped; see "
                + workspace.log(ended.id()));
        err.flush();
        return 1;
    }

    private List<String> serviceJvmOptions() {
        if (jvmOptions != null && !jvmOptions.isEmpty()) {
            return jvmOptions;
        }
        String fromEnvironment = System.getenv("EMEND_SERVICE_JVM_OPTIONS");
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return Arrays.asList(fromEnvironment.strip().split("\\s+"));
        }
        return LocalStack.DEFAULT_SERVICE_JVM_OPTIONS;
    }

    /**
     * Imports {@code models/demo} as {@code demo} with {@code demo@production} the first time; afterwards the registry
     * already has it (the data is reused) and nothing is imported again. Returns what happened, for the report.
     */
    private String ensureDemo(Workspace workspace, StackPorts ports) {
        SigningKeys keys = SigningKeys.createOrLoad(workspace.keys());
        String token = new TokenIssuer(keys).issue("emend-up", Role.ADMIN, Duration.ofMinutes(10)).compact();
        RegistryClient client = new RegistryClient(URI.create(ports.url(Component.REGISTRY)), () -> Optional.of(token));
        try {
            JsonNode existing = client.get("/v1/resolve/" + DEMO_MODEL + "@" + DEMO_ALIAS);
            return DEMO_MODEL + ":" + existing.path("number").asText() + " (" + DEMO_MODEL + "@" + DEMO_ALIAS + ", kept from an earlier up)";
        } catch (RegistryException e) {
            if (e.status() != 404) {
                throw e;
            }
        }
        boolean modelExists;
        try {
            client.get("/v1/models/" + DEMO_MODEL);
            modelExists = true;
        } catch (RegistryException e) {
            if (e.status() != 404) {
                throw e;
            }
            modelExists = false;
        }
        if (modelExists) {
            // Someone moved or removed the alias on purpose; a later up must not undo that.
            return DEMO_MODEL + " (kept from an earlier up; " + DEMO_MODEL + "@" + DEMO_ALIAS + " is not set)";
        }
        if (!Files.isRegularFile(workspace.demoModel().resolve("config.json"))) {
            throw new IllegalStateException(workspace.demoModel() + " is missing from the checkout; restore it with git checkout -- models/demo");
        }
        JsonNode version = ModelsCommand.importModel(client, DEMO_MODEL, workspace.demoModel(), DEMO_ALIAS,
                "stories260K: Karpathy's 260K-parameter TinyStories Llama (MIT), Emend's demo model");
        return DEMO_MODEL + ":" + version.path("number").asText() + " (" + DEMO_MODEL + "@" + DEMO_ALIAS + ", imported now)";
    }

    private void report(PrintWriter out, Workspace workspace, StackPorts ports, LocalStack stack,
                        StackEnvironment environment, String demo) throws Exception {
        Map<Component, ProcessHandle> processes = stack.processes();
        if (json) {
            ObjectNode root = RegistryClient.JSON.createObjectNode();
            ArrayNode components = root.putArray("components");
            for (Component c : Component.values()) {
                ObjectNode n = components.addObject().put("name", c.id()).put("url", ports.url(c)).put("state", "up");
                Optional.ofNullable(processes.get(c)).ifPresent(p -> n.put("pid", p.pid()));
            }
            root.put("dataDir", workspace.data().toString());
            root.put("database", environment.database(workspace));
            root.put("objectStore", environment.objectStore(workspace));
            root.put("demo", demo);
            out.println(RegistryClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } else {
            Table table = new Table("COMPONENT", "URL", "STATE", "PID", "LOG");
            for (Component c : Component.values()) {
                table.row(c.id(), ports.url(c), "up", Optional.ofNullable(processes.get(c)).map(ProcessHandle::pid).orElse(null),
                        workspace.data().relativize(workspace.log(c.id())));
            }
            table.print(out);
            out.println();
            out.println("data:     " + workspace.data());
            out.println("database: " + environment.database(workspace));
            out.println("objects:  " + environment.objectStore(workspace));
            out.println("demo:     " + demo);
        }
        out.flush();
    }
}
