package io.emend.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.cli.terminal.Details;
import io.emend.cli.terminal.Progress;
import io.emend.cli.terminal.Table;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "models",
        mixinStandardHelpOptions = true,
        description = "Lists, shows, creates, imports and archives models in the registry.")
public final class ModelsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: list, show, create, import or archive");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists models, a page at a time.")
    int list(@Option(names = "--tag", paramLabel = "TAG", description = "Only models with this tag.") String tag,
             @Option(names = "--page", defaultValue = "0", paramLabel = "N", description = "Page number, from 0.") int page,
             @Option(names = "--size", defaultValue = "20", paramLabel = "N", description = "Models per page (default: ${DEFAULT-VALUE}).") int size,
             @Mixin RegistryOptions registry) {
        if (page < 0 || size < 1) {
            throw usage("list", "--page must be >= 0 and --size >= 1");
        }
        Map<String, Object> query = new LinkedHashMap<>();
        query.put("tag", tag);
        query.put("page", page);
        query.put("size", size);
        JsonNode answer = registry.client().get("/v1/models" + RegistryClient.query(query));
        registry.print(out(), answer, out -> {
            Table table = new Table("NAME", "FAMILY", "TAGS", "ARCHIVED", "CREATED");
            for (JsonNode m : answer.path("items")) {
                table.row(m.path("name"), m.path("family"), tags(m), m.path("archived"), m.path("createdAt"));
            }
            if (table.isEmpty()) {
                out.println("no models" + (tag == null ? "" : " tagged '" + tag + "'")
                        + "; import one with: ./emend models import NAME DIR");
            } else {
                table.print(out);
                long total = answer.path("total").asLong(0);
                if (total > answer.path("items").size()) {
                    out.printf("page %d, %d of %d models (--page, --size)%n", page, answer.path("items").size(), total);
                }
            }
        });
        return 0;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one model.")
    int show(@Parameters(paramLabel = "MODEL", converter = Ref.NameConverter.class) String name,
             @Mixin RegistryOptions registry) {
        JsonNode m = registry.client().get("/v1/models/" + name);
        registry.print(out(), m, out -> details(m).print(out));
        return 0;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates an empty model (imports create theirs).")
    int create(@Parameters(paramLabel = "MODEL", converter = Ref.NameConverter.class) String name,
               @Option(names = "--description", paramLabel = "TEXT") String description,
               @Option(names = "--family", paramLabel = "FAMILY", description = "e.g. llama, qwen2, gpt2") String family,
               @Option(names = "--tag", paramLabel = "TAG", description = "A tag; repeat for more.") List<String> tags,
               @Mixin RegistryOptions registry) {
        ObjectNode body = RegistryClient.JSON.createObjectNode().put("name", name);
        if (description != null) {
            body.put("description", description);
        }
        if (family != null) {
            body.put("family", family);
        }
        if (tags != null) {
            tags.forEach(body.putArray("tags")::add);
        }
        JsonNode m = registry.client().post("/v1/models", body);
        registry.print(out(), m, out -> out.println("created model " + m.path("name").asText(name)));
        return 0;
    }

    @Command(name = "archive", mixinStandardHelpOptions = true,
            description = "Archives a model: it stays readable, but takes no new versions.")
    int archive(@Parameters(paramLabel = "MODEL", converter = Ref.NameConverter.class) String name,
                @Mixin RegistryOptions registry) {
        registry.client().delete("/v1/models/" + name);
        JsonNode m = registry.client().get("/v1/models/" + name);
        registry.print(out(), m, out -> out.println("archived model " + name));
        return 0;
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {
                    "Imports a Hugging Face model directory (config.json, tokenizer.json, *.safetensors) as a new version.",
                    "The registry reads the directory itself, so it must be on the registry's machine.",
                    "Example: ./emend models import demo models/demo --alias production"
            })
    int importDirectory(@Parameters(index = "0", paramLabel = "MODEL", converter = Ref.NameConverter.class) String name,
                        @Parameters(index = "1", paramLabel = "DIR") Path dir,
                        @Option(names = "--alias", paramLabel = "ALIAS", description = "Point this alias at the new version.") String alias,
                        @Option(names = "--description", paramLabel = "TEXT", description = "Model description, if the import creates it.") String description,
                        @Mixin RegistryOptions registry) {
        if (!Files.isDirectory(dir)) {
            throw usage("import", dir + " is not a directory; give the folder holding config.json");
        }
        if (alias != null) {
            try {
                Ref.checkName("alias", alias);
            } catch (IllegalArgumentException e) {
                throw usage("import", e.getMessage());
            }
        }
        JsonNode version;
        try (Progress progress = new Progress(spec.commandLine().getErr(), Progress.terminalAttached(), 1)) {
            progress.step("importing " + dir + " as " + name);
            version = importModel(registry.client(), name, dir, alias, description);
        }
        registry.print(out(), version, out -> out.println("imported " + name + ":" + version.path("number").asText()
                + " (" + version.path("state").asText() + ") from " + dir.toAbsolutePath().normalize()
                + (alias == null ? "" : "; " + name + "@" + alias + " -> " + version.path("number").asText())));
        return 0;
    }

    /** Asks the registry to import {@code dir}; shared with {@code up}, which imports the demo model this way. */
    public static JsonNode importModel(RegistryClient client, String name, Path dir, String alias, String description) {
        ObjectNode body = RegistryClient.JSON.createObjectNode().put("path", dir.toAbsolutePath().normalize().toString());
        if (alias != null) {
            body.put("alias", alias);
        }
        if (description != null) {
            body.put("description", description);
        }
        return client.post("/v1/models/" + name + "/imports", body);
    }

    static Details details(JsonNode m) {
        return new Details()
                .field("name", m.path("name"))
                .field("description", m.path("description"))
                .field("family", m.path("family"))
                .field("tags", tags(m))
                .field("archived", m.path("archived"))
                .field("created", m.path("createdAt"));
    }

    private static String tags(JsonNode m) {
        List<String> tags = new ArrayList<>();
        m.path("tags").forEach(t -> tags.add(t.asText()));
        return tags.isEmpty() ? "-" : String.join(",", tags);
    }

    /** A usage error (exit 2) reported against the subcommand {@code sub}, so its message names it. */
    private CommandLine.ParameterException usage(String sub, String message) {
        return new CommandLine.ParameterException(spec.commandLine().getSubcommands().get(sub), message);
    }

    private PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
