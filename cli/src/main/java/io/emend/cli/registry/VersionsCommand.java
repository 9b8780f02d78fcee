package io.emend.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.emend.cli.terminal.Details;
import io.emend.cli.terminal.Table;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "versions",
        mixinStandardHelpOptions = true,
        description = "Lists and shows the versions of a model.")
public final class VersionsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: list or show");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists a model's versions.")
    int list(@Parameters(paramLabel = "MODEL", converter = Ref.NameConverter.class) String model,
             @Option(names = "--state", paramLabel = "STATE", description = "Only versions in this state: pending, ready, failed, archived.") String state,
             @Mixin RegistryOptions registry) {
        if (state != null && !List.of("pending", "ready", "failed", "archived").contains(state.toLowerCase(Locale.ROOT))) {
            throw new CommandLine.ParameterException(spec.commandLine().getSubcommands().get("list"),
                    "unknown state '" + state + "'; use pending, ready, failed or archived");
        }
        JsonNode answer = registry.client().get("/v1/models/" + model + "/versions"
                + RegistryClient.query(state == null ? Map.of() : Map.of("state", state.toLowerCase(Locale.ROOT))));
        registry.print(out(), answer, out -> {
            Table table = new Table("VERSION", "STATE", "OPERATION", "PARENTS", "CREATED");
            for (JsonNode v : answer.path("items")) {
                table.row(model + ":" + v.path("number").asText(), v.path("state"), v.path("operation"), parents(v),
                        v.path("createdAt"));
            }
            if (table.isEmpty()) {
                out.println(model + " has no versions" + (state == null ? "" : " in state " + state));
            } else {
                table.print(out);
            }
        });
        return 0;
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Shows a version: state, operation, parents, recipe, metrics and files. "
                    + "MODEL alone means its latest ready version; MODEL@ALIAS what the alias points at.")
    int show(@Parameters(paramLabel = "MODEL[:N]", converter = Ref.Converter.class) Ref ref,
             @Mixin RegistryOptions registry) {
        RegistryClient client = registry.client();
        JsonNode version = version(client, ref);
        registry.print(out(), version, out -> {
            new Details()
                    .field("version", version.path("model").asText(ref.model()) + ":" + version.path("number").asText())
                    .field("id", version.path("id"))
                    .field("state", version.path("state"))
                    .field("reason", version.path("reason"))
                    .field("operation", version.path("operation"))
                    .field("parents", parents(version))
                    .field("recipe", version.path("recipe"))
                    .field("metrics", version.path("metrics"))
                    .field("created", version.path("createdAt"))
                    .print(out);
            Table files = new Table("PATH", "SIZE", "SHA256", "MEDIA TYPE", "PRESENT");
            for (JsonNode f : version.path("manifest")) {
                String sha = f.path("sha256").asText("");
                files.row(f.path("path"), f.path("size"), sha.length() > 12 ? sha.substring(0, 12) : sha,
                        f.path("mediaType"), f.path("present"));
            }
            if (!files.isEmpty()) {
                out.println();
                files.print(out);
            }
        });
        return 0;
    }

    /** The version a reference means: fetched directly for {@code name:n}, through resolve otherwise. */
    static JsonNode version(RegistryClient client, Ref ref) {
        int number = ref.number().isPresent() ? ref.number().getAsInt()
                : client.get("/v1/resolve/" + ref).path("number").asInt();
        return client.get("/v1/models/" + ref.model() + "/versions/" + number);
    }

    static String parents(JsonNode version) {
        List<String> parents = new ArrayList<>();
        for (JsonNode p : version.path("parents")) {
            parents.add(p.path("model").asText() + ":" + p.path("number").asText() + " (" + p.path("role").asText() + ")");
        }
        return parents.isEmpty() ? "-" : String.join(", ", parents);
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
