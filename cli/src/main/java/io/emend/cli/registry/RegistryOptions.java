package io.emend.cli.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import io.emend.cli.auth.Role;
import io.emend.cli.auth.SigningKeys;
import io.emend.cli.auth.TokenIssuer;
import picocli.CommandLine;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What every registry command shares: where the registry is, which token to send, and {@code --json}.
 * Without {@code --token}/{@code EMEND_TOKEN}, a short-lived admin token is minted from the local stack's signing key
 * when there is one: whoever can read that key can mint any token anyway.
 */
public final class RegistryOptions {

    private static final Duration MINTED_TTL = Duration.ofMinutes(10);

    @Option(names = "--registry", paramLabel = "URL", converter = UrlConverter.class,
            defaultValue = "${env:EMEND_REGISTRY_URL:-" + RegistryClient.DEFAULT_URL + "}",
            description = "Registry base URL (default: $EMEND_REGISTRY_URL, else " + RegistryClient.DEFAULT_URL + ").")
    URI registry;

    @Option(names = "--token", paramLabel = "JWT", defaultValue = "${env:EMEND_TOKEN}", showDefaultValue = Visibility.NEVER,
            description = "Bearer token (default: $EMEND_TOKEN, else one minted from the local stack's key).")
    String token;

    @Option(names = "--json", description = "Print the registry's JSON answer instead of a table.")
    boolean json;

    @Mixin
    WorkspaceOption workspaceOption;

    public RegistryClient client() {
        return new RegistryClient(registry, this::bearer);
    }

    private Optional<String> bearer() {
        if (token != null && !token.isBlank()) {
            return Optional.of(token.strip());
        }
        Workspace workspace = workspaceOption.workspace();
        return SigningKeys.load(workspace.keys()).map(keys -> new TokenIssuer(keys)
                .issue(System.getProperty("user.name", "emend"), Role.ADMIN, MINTED_TTL).compact());
    }

    public boolean json() {
        return json;
    }

    /** Prints {@code answer} as indented JSON under {@code --json}, otherwise the way {@code human} lays it out. */
    public void print(PrintWriter out, JsonNode answer, Consumer<PrintWriter> human) {
        if (json) {
            try {
                out.println(RegistryClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        } else {
            human.accept(out);
        }
        out.flush();
    }

    static final class UrlConverter implements CommandLine.ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            try {
                URI uri = URI.create(value.strip());
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                    throw new IllegalArgumentException();
                }
                return uri;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(
                        "'" + value + "' is not an http(s) URL like " + RegistryClient.DEFAULT_URL);
            }
        }
    }
}
