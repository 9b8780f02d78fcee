package io.emend.cli.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.DurationConverter;
import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "token",
        mixinStandardHelpOptions = true,
        description = {
                "Prints a bearer token (JWT, RS256) signed with the local stack's key, for curl or EMEND_TOKEN.",
                "Example: export EMEND_TOKEN=$(./emend token --role admin)"
        })
public final class TokenCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--role", required = true, paramLabel = "ROLE", completionCandidates = Role.Candidates.class,
            converter = RoleConverter.class,
            description = "reader (GETs), writer (creates, imports, uploads) or admin (also moves aliases).")
    Role role;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "12h", converter = DurationConverter.class,
            description = "How long the token is valid, e.g. 30m, 12h, 7d (default: ${DEFAULT-VALUE}).")
    Duration ttl;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "${sys:user.name}",
            description = "Who the token speaks for (upn claim; default: your login name).")
    String user;

    @Option(names = "--json", description = "Print {token, user, role, expiresAt} as JSON.")
    boolean json;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() throws Exception {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(TokenIssuer.MAX_TTL) > 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--ttl must be between 1s and 365d");
        }
        Workspace workspace = workspaceOption.workspace();
        SigningKeys keys = SigningKeys.load(workspace.keys()).orElseThrow(() -> new IllegalStateException(
                "no signing key in " + workspace.keys() + "; run ./emend up once to create it"));
        TokenIssuer.Token token = new TokenIssuer(keys).issue(user, role, ttl);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("token", token.compact());
            fields.put("user", token.user());
            fields.put("role", token.role().claim());
            fields.put("expiresAt", token.expiresAt().toString());
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(fields));
        } else {
            out.println(token.compact());
        }
        out.flush();
        return 0;
    }

    static final class RoleConverter implements CommandLine.ITypeConverter<Role> {
        @Override
        public Role convert(String value) {
            try {
                return Role.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
