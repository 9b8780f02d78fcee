package io.emend.cli.registry;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.concurrent.Callable;

@Command(name = "resolve",
        mixinStandardHelpOptions = true,
        description = {"Says which version a reference means now, as serving asks on every swap.",
                "Example: ./emend resolve demo@production"})
public final class ResolveCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "REF", converter = Ref.Converter.class,
            description = "MODEL (latest ready version), MODEL:N or MODEL@ALIAS.")
    Ref ref;

    @Mixin
    RegistryOptions registry;

    @Override
    public Integer call() {
        JsonNode v = registry.client().get("/v1/resolve/" + ref);
        registry.print(spec.commandLine().getOut(), v, out -> out.println(ref + " -> "
                + v.path("model").asText(ref.model()) + ":" + v.path("number").asText()
                + " (" + v.path("state").asText() + ", " + v.path("operation").asText() + ", "
                + v.path("manifest").size() + " files, id " + v.path("id").asText() + ")"));
        return 0;
    }
}
