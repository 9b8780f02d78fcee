package io.emend.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --data-dir}: which local stack a command means, for commands that read or write its state. */
public final class WorkspaceOption {

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "State directory of the local stack (default: $EMEND_DATA_DIR, else .emend in the checkout).")
    Path dataDir;

    public Workspace workspace() {
        return Workspace.locate(dataDir);
    }
}
