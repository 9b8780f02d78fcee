package io.emend.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.emend.cli.terminal.Table;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "lineage",
        mixinStandardHelpOptions = true,
        description = {"Shows where a version came from (ancestors) and what was made from it (descendants).",
                "Example: ./emend lineage demo@production --mermaid"})
public final class LineageCommand implements Callable<Integer> {

    enum Direction { ancestors, descendants, both }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "REF", converter = Ref.Converter.class, description = "MODEL, MODEL:N or MODEL@ALIAS.")
    Ref ref;

    @Option(names = "--direction", defaultValue = "both", paramLabel = "DIR",
            description = "ancestors, descendants or both (default: ${DEFAULT-VALUE}).")
    Direction direction;

    @Option(names = "--mermaid", description = "Print a Mermaid graph (paste it into Markdown) instead of a table.")
    boolean mermaid;

    @Mixin
    RegistryOptions registry;

    @Override
    public Integer call() {
        RegistryClient client = registry.client();
        int number = ref.number().isPresent() ? ref.number().getAsInt()
                : client.get("/v1/resolve/" + ref).path("number").asInt();
        String path = "/v1/models/" + ref.model() + "/versions/" + number + "/lineage"
                + RegistryClient.query(Map.of("direction", direction.name()));
        PrintWriter out = spec.commandLine().getOut();
        if (mermaid) {
            out.print(client.getText(path, "text/vnd.mermaid"));
            out.flush();
            return 0;
        }
        JsonNode lineage = client.get(path);
        registry.print(out, lineage, o -> {
            Table nodes = new Table("VERSION", "OPERATION", "STATE");
            for (JsonNode n : lineage.path("nodes")) {
                nodes.row(name(n), n.path("operation"), n.path("state"));
            }
            nodes.print(o);
            if (!lineage.path("edges").isEmpty()) {
                o.println();
                Table edges = new Table("FROM", "TO", "ROLE");
                for (JsonNode e : lineage.path("edges")) {
                    edges.row(name(e.path("from")), name(e.path("to")), e.path("role"));
                }
                edges.print(o);
            }
        });
        return 0;
    }

    private static String name(JsonNode version) {
        return version.path("model").asText() + ":" + version.path("number").asText();
    }
}
