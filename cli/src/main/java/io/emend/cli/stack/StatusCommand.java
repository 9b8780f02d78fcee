package io.emend.cli.stack;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import io.emend.cli.registry.RegistryClient;
import io.emend.cli.terminal.Table;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "status",
        mixinStandardHelpOptions = true,
        description = {"Says, one line per component, whether the local stack is up.",
                "Exit code 0 when every component is up, 1 when any is down (for scripts: ./emend status && ...)."})
public final class StatusCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--base-port", paramLabel = "N",
            description = "Check the stack on this base port (default: the one ./emend up recorded, else " + StackPorts.DEFAULT_BASE + ").")
    Integer basePort;

    @Option(names = "--json", description = "Print [{name, url, state, pid}] as JSON.")
    boolean json;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() throws Exception {
        Workspace workspace = workspaceOption.workspace();
        Optional<RunState> recorded = RunState.read(workspace);
        StackPorts ports;
        try {
            ports = basePort != null ? new StackPorts(basePort) : recorded.map(RunState::ports).orElse(StackPorts.DEFAULT);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Map<Component, ProcessHandle> processes = recorded.map(RunState::processes).orElse(Map.of());
        HealthProbe probe = new HealthProbe();
        List<Component> down = new ArrayList<>();
        Table table = new Table("COMPONENT", "URL", "STATE", "PID");
        ArrayNode array = RegistryClient.JSON.createArrayNode();
        for (Component c : Component.values()) {
            boolean up = probe.isReady(c, ports);
            if (!up) {
                down.add(c);
            }
            Long pid = Optional.ofNullable(processes.get(c)).map(ProcessHandle::pid).orElse(null);
            table.row(c.id(), ports.url(c), up ? "up" : "down", pid);
            var node = array.addObject().put("name", c.id()).put("url", ports.url(c)).put("state", up ? "up" : "down");
            if (pid != null) {
                node.put("pid", pid);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(RegistryClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(array));
        } else {
            table.print(out);
        }
        out.flush();
        if (!down.isEmpty()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("emend status: " + String.join(", ", down.stream().map(Component::id).toList())
                    + (down.size() == 1 ? " is" : " are") + " down; ./emend up starts the stack, ./emend logs NAME says why one stopped");
            err.flush();
            return 1;
        }
        return 0;
    }
}
