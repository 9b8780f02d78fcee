package io.emend.cli.stack;

import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "logs",
        mixinStandardHelpOptions = true,
        description = {"Prints the log of a component of the local stack (kafka, registry, trainer, editor, merger, serving).",
                "Example: ./emend logs registry -f"})
public final class LogsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "COMPONENT", converter = ComponentConverter.class,
            description = "kafka, registry, trainer, editor, merger or serving.")
    Component component;

    @Option(names = {"-f", "--follow"}, description = "Keep printing what is appended, until Ctrl-C.")
    boolean follow;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "200",
            description = "Print the last N lines; 0 prints the whole log (default: ${DEFAULT-VALUE}).")
    int lines;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() throws Exception {
        if (lines < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--lines must be 0 or more");
        }
        Workspace workspace = workspaceOption.workspace();
        Path log = workspace.log(component.id());
        if (!Files.isRegularFile(log)) {
            throw new IllegalStateException("no " + component.id() + " log in " + workspace.logs()
                    + " yet; ./emend up starts the stack and writes it");
        }
        PrintWriter out = spec.commandLine().getOut();
        long position = Files.size(log);
        Deque<String> tail = new ArrayDeque<>();
        try (Stream<String> all = Files.lines(log, StandardCharsets.UTF_8)) {
            all.forEach(line -> {
                tail.addLast(line);
                if (lines > 0 && tail.size() > lines) {
                    tail.removeFirst();
                }
            });
        }
        tail.forEach(out::println);
        out.flush();
        while (follow && !Thread.currentThread().isInterrupted()) {
            position = printAppended(log, position, out);
            Thread.sleep(250);
        }
        return 0;
    }

    /** Prints what was appended after {@code from}; starts over when the log was truncated or replaced. */
    private static long printAppended(Path log, long from, PrintWriter out) throws IOException {
        if (!Files.isRegularFile(log)) {
            return 0;
        }
        long size = Files.size(log);
        long start = size < from ? 0 : from;
        if (size == start) {
            return start;
        }
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            file.seek(start);
            byte[] bytes = new byte[(int) Math.min(size - start, 1 << 20)];
            file.readFully(bytes);
            out.print(new String(bytes, StandardCharsets.UTF_8));
            out.flush();
            return start + bytes.length;
        }
    }

    static final class ComponentConverter implements CommandLine.ITypeConverter<Component> {
        @Override
        public Component convert(String value) {
            try {
                return Component.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
