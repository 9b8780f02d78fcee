package io.emend.cli.stack;

import io.emend.cli.Workspace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * What {@code up} leaves under {@code .emend/run/} for {@code down}, {@code status} and {@code logs}: the stack's
 * base port in {@code stack.properties}, and one {@code <component>.pid} per process holding its pid and start time.
 * The start time guards against pid reuse: a pid whose process started at another moment is not ours.
 *
 * @param ports     where the stack listens
 * @param processes the recorded processes that are still alive
 */
public record RunState(StackPorts ports, Map<Component, ProcessHandle> processes) {

    private static final String STACK_FILE = "stack.properties";

    /** Records a stack that has just been started (public for tests that stand a broker up as {@code up} would). */
    public static void write(Workspace workspace, StackPorts ports, Map<Component, ProcessHandle> processes) {
        try {
            Files.createDirectories(workspace.run());
            for (Map.Entry<Component, ProcessHandle> e : processes.entrySet()) {
                ProcessHandle p = e.getValue();
                String started = p.info().startInstant().map(Instant::toString).orElse("");
                Files.writeString(pidFile(workspace, e.getKey()), p.pid() + "\n" + started + "\n");
            }
            Properties stack = new Properties();
            stack.setProperty("base-port", Integer.toString(ports.base()));
            stack.setProperty("started-at", Instant.now().toString());
            try (var out = Files.newOutputStream(workspace.run().resolve(STACK_FILE))) {
                stack.store(out, "written by ./emend up; removed by ./emend down");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the stack's pid files under " + workspace.run() + ": " + e.getMessage(), e);
        }
    }

    /** The recorded stack, or empty when none was started here (or it was taken down). */
    public static Optional<RunState> read(Workspace workspace) {
        Path stackFile = workspace.run().resolve(STACK_FILE);
        if (!Files.isRegularFile(stackFile)) {
            return Optional.empty();
        }
        Properties stack = new Properties();
        try (var in = Files.newInputStream(stackFile)) {
            stack.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + stackFile + ": " + e.getMessage(), e);
        }
        StackPorts ports;
        try {
            ports = new StackPorts(Integer.parseInt(stack.getProperty("base-port", "").strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(stackFile + " is damaged (" + e.getMessage() + "); remove "
                    + workspace.run() + " and stop leftover processes by hand");
        }
        Map<Component, ProcessHandle> alive = new EnumMap<>(Component.class);
        for (Component c : Component.values()) {
            recorded(pidFile(workspace, c)).ifPresent(p -> alive.put(c, p));
        }
        return Optional.of(new RunState(ports, alive));
    }

    /** Forgets the stack; its processes are the caller's to stop. */
    static void clear(Workspace workspace) {
        try {
            Files.deleteIfExists(workspace.run().resolve(STACK_FILE));
            for (Component c : Component.values()) {
                Files.deleteIfExists(pidFile(workspace, c));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the pid files under " + workspace.run() + ": " + e.getMessage(), e);
        }
    }

    private static Path pidFile(Workspace workspace, Component c) {
        return workspace.run().resolve(c.id() + ".pid");
    }

    private static Optional<ProcessHandle> recorded(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        String[] lines;
        try {
            lines = Files.readString(pidFile).strip().split("\n");
        } catch (IOException e) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(lines[0].strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        String started = lines.length > 1 ? lines[1].strip() : "";
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(p -> started.isEmpty()
                || p.info().startInstant().map(i -> i.toString().equals(started)).orElse(true));
    }
}
