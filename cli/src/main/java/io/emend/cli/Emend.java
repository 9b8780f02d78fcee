package io.emend.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code emend} command. Exit codes: 0 ok, 1 failure, 2 usage. Errors go to stderr in one line.
 * Subcommands are registered here, one class each, grouped by package: the local stack, registry clients,
 * and the offline model commands.
 */
@Command(name = "emend",
        mixinStandardHelpOptions = true,
        versionProvider = Emend.Version.class,
        description = "Keeps deployed language models current: fine-tune, edit, merge, serve, and track every version.",
        subcommands = {
                CommandLine.HelpCommand.class,
                io.emend.cli.merge.MergeCommand.class,
        })
public final class Emend implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, also used by tests to run commands in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Emend());
        cl.setExitCodeExceptionMapper(t -> t instanceof CommandLine.ParameterException ? 2 : 1);
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            cmd.getErr().println("emend " + cmd.getCommandName() + ": " + oneLine(e));
            return 1;
        });
        return cl;
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.replace('\n', ' ');
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Emend.class.getPackage().getImplementationVersion();
            return new String[] {"emend " + (v == null ? "dev" : v)};
        }
    }
}
