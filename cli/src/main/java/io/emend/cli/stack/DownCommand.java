package io.emend.cli.stack;

import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "down",
        mixinStandardHelpOptions = true,
        description = "Stops the local stack that ./emend up started (services first, then Kafka). Data is kept.")
public final class DownCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Workspace workspace = workspaceOption.workspace();
        Map<Component, ProcessHandle> running = new EnumMap<>(Component.class);
        RunState.read(workspace).ifPresent(state -> running.putAll(state.processes()));
        // A broker whose launcher died before writing the pid files is still found through its own pid file.
        LocalStack.brokerIn(workspace).ifPresent(b -> running.putIfAbsent(Component.KAFKA, b));
        // Forget the stack first: a foreground ./emend up sees its processes end and knows it was asked to stop.
        RunState.clear(workspace);
        if (running.isEmpty()) {
            out.println("nothing to stop: no stack is running from " + workspace.data());
            out.flush();
            return 0;
        }
        List<ProcessHandle> services = new ArrayList<>();
        running.forEach((c, p) -> {
            if (c.isService()) {
                services.add(p);
            }
        });
        // Services first: on their way down they may still talk to the broker.
        LocalStack.stop(services, LocalStack.STOP_GRACE);
        running.forEach((c, p) -> {
            if (c.isService()) {
                out.println("stopped " + c.id() + " (pid " + p.pid() + ")");
            }
        });
        Optional.ofNullable(running.get(Component.KAFKA)).ifPresent(broker -> {
            LocalStack.stop(List.of(broker), LocalStack.STOP_GRACE);
            out.println("stopped kafka (pid " + broker.pid() + ")");
        });
        out.flush();
        return 0;
    }
}
