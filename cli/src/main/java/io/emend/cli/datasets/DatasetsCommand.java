package io.emend.cli.datasets;

import picocli.CommandLine.Command;

@Command(name = "datasets",
        mixinStandardHelpOptions = true,
        description = "Training data for the local stack's trainer.",
        subcommands = {LandCommand.class})
public final class DatasetsCommand {
}
