package io.emend.cli.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import io.emend.cli.Workspace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code status}, {@code down} and {@code logs} against real processes and files. */
class StackCommandsTest {

    @TempDir
    Path data;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        started.forEach(Process::destroyForcibly);
    }

    private Workspace workspace() {
        return new Workspace(data, data);
    }

    private Process sleeper() throws Exception {
        Process p = new ProcessBuilder("sleep", "300").start();
        started.add(p);
        return p;
    }

    @Test
    void downStopsTheRecordedProcessesAndForgetsThem() throws Exception {
        Process registry = sleeper();
        Process serving = sleeper();
        RunState.write(workspace(), StackPorts.DEFAULT,
                Map.of(Component.REGISTRY, registry.toHandle(), Component.SERVING, serving.toHandle()));

        EmendRun run = EmendRun.of("down", "--data-dir", data.toString());

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(registry.waitFor(5, TimeUnit.SECONDS) && serving.waitFor(5, TimeUnit.SECONDS), "both stopped");
        assertTrue(run.out().contains("stopped registry (pid " + registry.pid() + ")"), run.out());
        assertTrue(run.out().contains("stopped serving (pid " + serving.pid() + ")"), run.out());
        assertTrue(RunState.read(workspace()).isEmpty());
        assertFalse(Files.exists(data.resolve("run/registry.pid")));
    }

    @Test
    void downWithNothingRunningSaysSo() {
        EmendRun run = EmendRun.of("down", "--data-dir", data.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().startsWith("nothing to stop"), run.out());
    }

    @Test
    void aPidFileOfAnotherProcessIsIgnored() throws Exception {
        Process p = sleeper();
        RunState.write(workspace(), StackPorts.DEFAULT, Map.of(Component.TRAINER, p.toHandle()));
        // Same pid, another start time: the pid was reused by someone else's process.
        Files.writeString(data.resolve("run/trainer.pid"), p.pid() + "\n2001-01-01T00:00:00Z\n");
        assertTrue(RunState.read(workspace()).orElseThrow().processes().isEmpty());
        EmendRun run = EmendRun.of("down", "--data-dir", data.toString());
        assertEquals(0, run.exitCode());
        assertTrue(p.isAlive(), "a process that is not ours is never stopped");
    }

    @Test
    void aDamagedStackFileSaysWhatToDo() throws Exception {
        Files.createDirectories(data.resolve("run"));
        Files.writeString(data.resolve("run/stack.properties"), "base-port=eighty\n");
        EmendRun run = EmendRun.of("status", "--data-dir", data.toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("stack.properties is damaged"), run.err());
    }

    @Test
    void statusReportsEachComponentAndExitsOneWhenAnyIsDown() throws Exception {
        int base = freeBase();
        // Only "kafka" answers: a plain listener on its port is what the broker probe checks.
        try (ServerSocket kafka = new ServerSocket(base + 1012)) {
            EmendRun run = EmendRun.of("status", "--data-dir", data.toString(), "--base-port", Integer.toString(base), "--json");
            assertEquals(1, run.exitCode(), run.toString());
            JsonNode components = new ObjectMapper().readTree(run.out());
            assertEquals(6, components.size());
            assertEquals("kafka", components.get(0).path("name").asText());
            assertEquals("up", components.get(0).path("state").asText());
            assertEquals("http://localhost:" + (base + 1), components.get(1).path("url").asText());
            assertEquals("down", components.get(1).path("state").asText());
            assertTrue(run.err().contains("registry, trainer, editor, merger, serving are down"), run.err());
        }
    }

    @Test
    void logsPrintsTheLastLinesAndNamesAMissingLog() throws Exception {
        Files.createDirectories(data.resolve("logs"));
        Files.writeString(data.resolve("logs/registry.log"),
                IntStream.rangeClosed(1, 500).mapToObj(i -> "line " + i).collect(Collectors.joining("\n", "", "\n")));
        EmendRun run = EmendRun.of("logs", "registry", "-n", "3", "--data-dir", data.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("line 498\nline 499\nline 500\n", run.out());
        assertEquals(500, EmendRun.of("logs", "registry", "-n", "0", "--data-dir", data.toString()).out().lines().count());

        EmendRun missing = EmendRun.of("logs", "serving", "--data-dir", data.toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("no serving log in " + data.resolve("logs")), missing.err());

        EmendRun unknown = EmendRun.of("logs", "postgres", "--data-dir", data.toString());
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown component 'postgres'; use one of kafka, registry"), unknown.err());
    }

    @Test
    void stopEndsProcessesThatIgnoreTheirSignal() throws Exception {
        // An ignored signal stays ignored across exec, so sleep itself shrugs off SIGTERM.
        Process stubborn = new ProcessBuilder("sh", "-c", "trap '' TERM; exec sleep 300").start();
        started.add(stubborn);
        Thread.sleep(200);
        long t0 = System.nanoTime();
        LocalStack.stop(List.of(stubborn.toHandle()), Duration.ofSeconds(1));
        assertTrue(stubborn.waitFor(5, TimeUnit.SECONDS), "killed after the grace period");
        assertTrue(System.nanoTime() - t0 >= Duration.ofSeconds(1).toNanos(), "the grace period was honoured");
    }

    /** A base port whose whole range (base+1..base+1013) is free right now. */
    private static int freeBase() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (ServerSocket s = new ServerSocket(0)) {
                base = s.getLocalPort() - 1;
            }
            if (base >= 1024 && base + 1013 <= 65535 && IntStream.of(1, 2, 3, 4, 5, 1012, 1013)
                    .allMatch(o -> PortCheck.isFree(base + o))) {
                return base;
            }
        }
        throw new IllegalStateException("no free port range found");
    }
}
