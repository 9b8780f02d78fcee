package io.emend.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.cli.terminal.Details;
import io.emend.cli.terminal.Table;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

@Command(name = "aliases",
        mixinStandardHelpOptions = true,
        description = "Lists, shows, moves (promotes) and rolls back a model's aliases. Moving an alias needs an admin token.")
public final class AliasesCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: list, show, set or rollback");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists a model's aliases and their versions.")
    int list(@Parameters(paramLabel = "MODEL", converter = Ref.NameConverter.class) String model,
             @Mixin RegistryOptions registry) {
        JsonNode answer = registry.client().get("/v1/models/" + model + "/aliases");
        registry.print(out(), answer, out -> {
            Table table = new Table("ALIAS", "VERSION", "UPDATED");
            for (JsonNode a : answer.path("items")) {
                table.row(model + "@" + a.path("name").asText(), model + ":" + a.path("version").asText(), a.path("updatedAt"));
            }
            if (table.isEmpty()) {
                out.println(model + " has no aliases; set one with: ./emend aliases set " + model + "@production N");
            } else {
                table.print(out);
            }
        });
        return 0;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows an alias, its version and its history.")
    int show(@Parameters(paramLabel = "MODEL@ALIAS", converter = Ref.Converter.class) Ref ref,
             @Mixin RegistryOptions registry) {
        String alias = alias(ref, "show");
        JsonNode answer = registry.client().get("/v1/models/" + ref.model() + "/aliases/" + alias);
        registry.print(out(), answer, out -> print(out, ref.model(), answer));
        return 0;
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Points an alias at a ready version (promotion). Example: ./emend aliases set demo@production 2"})
    int set(@Parameters(index = "0", paramLabel = "MODEL@ALIAS", converter = Ref.Converter.class) Ref ref,
            @Parameters(index = "1", paramLabel = "VERSION", description = "Version number to point at.") int version,
            @Option(names = "--expect", paramLabel = "N",
                    description = "Only move the alias if it points at version N now (guards against a concurrent move).") Integer expected,
            @Mixin RegistryOptions registry) {
        String alias = alias(ref, "set");
        if (version < 1 || expected != null && expected < 1) {
            throw new CommandLine.ParameterException(spec.commandLine().getSubcommands().get("set"),
                    "version numbers start at 1");
        }
        ObjectNode body = RegistryClient.JSON.createObjectNode().put("version", version);
        if (expected != null) {
            body.put("expectedVersion", expected);
        }
        JsonNode answer = registry.client().put("/v1/models/" + ref.model() + "/aliases/" + alias, body);
        registry.print(out(), answer, out -> out.println(ref + " -> " + ref.model() + ":" + answer.path("version").asText()));
        return 0;
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
            description = "Moves an alias back to the version it pointed at before its last move.")
    int rollback(@Parameters(paramLabel = "MODEL@ALIAS", converter = Ref.Converter.class) Ref ref,
                 @Mixin RegistryOptions registry) {
        String alias = alias(ref, "rollback");
        JsonNode answer = registry.client().post("/v1/models/" + ref.model() + "/aliases/" + alias + "/rollback",
                RegistryClient.JSON.createObjectNode());
        registry.print(out(), answer, out -> out.println(ref + " rolled back to " + ref.model() + ":" + answer.path("version").asText()));
        return 0;
    }

    private String alias(Ref ref, String sub) {
        return ref.alias().orElseThrow(() -> new CommandLine.ParameterException(
                spec.commandLine().getSubcommands().get(sub), "'" + ref + "' names no alias; write MODEL@ALIAS, e.g. demo@production"));
    }

    private static void print(PrintWriter out, String model, JsonNode alias) {
        new Details()
                .field("alias", model + "@" + alias.path("name").asText())
                .field("version", model + ":" + alias.path("version").asText())
                .field("updated", alias.path("updatedAt"))
                .print(out);
        Table history = new Table("VERSION", "MOVED AT", "MOVED BY");
        for (JsonNode h : alias.path("history")) {
            history.row(model + ":" + h.path("version").asText(), h.path("movedAt"), h.path("movedBy"));
        }
        if (!history.isEmpty()) {
            out.println();
            history.print(out);
        }
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
