package io.emend.cli.auth;

import io.emend.cli.Workspace;
import io.emend.cli.WorkspaceOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Makes the stack's signing key pair without starting the stack: a container deployment (docker-compose, Kubernetes)
 * runs it once into a shared volume, then every service verifies tokens with the public half and the job services
 * sign their registry calls with the private half, exactly as {@code up} arranges locally.
 */
@Command(name = "keys",
        mixinStandardHelpOptions = true,
        description = {
                "Creates the signing key pair (RS256) under DATA_DIR/keys when there is none; prints the public key's path.",
                "An existing pair is kept, so running it again changes nothing."
        })
public final class KeysCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    WorkspaceOption workspaceOption;

    @Override
    public Integer call() {
        Workspace workspace = workspaceOption.workspace();
        SigningKeys.createOrLoad(workspace.keys());
        Path publicKey = SigningKeys.publicKeyFile(workspace.keys());
        spec.commandLine().getOut().println(publicKey.toAbsolutePath());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
