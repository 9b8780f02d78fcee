package io.emend.cli;

import io.emend.cli.auth.KeysCommand;
import io.emend.cli.auth.TokenCommand;
import io.emend.cli.merge.MergeCommand;
import io.emend.cli.registry.AliasesCommand;
import io.emend.cli.registry.LineageCommand;
import io.emend.cli.registry.ModelsCommand;
import io.emend.cli.registry.ResolveCommand;
import io.emend.cli.registry.VersionsCommand;
import io.emend.cli.stack.DownCommand;
import io.emend.cli.stack.LogsCommand;
import io.emend.cli.stack.StatusCommand;
import io.emend.cli.stack.UpCommand;
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
                UpCommand.class,
                DownCommand.class,
                StatusCommand.class,
                LogsCommand.class,
                TokenCommand.class,
                KeysCommand.class,
                ModelsCommand.class,
                VersionsCommand.class,
                AliasesCommand.class,
                LineageCommand.class,
                ResolveCommand.class,
                MergeCommand.class,
                io.emend.cli.offline.LogitsCommand.class,
                io.emend.cli.offline.GenerateCommand.class,
                io.emend.cli.offline.PerplexityCommand.class,
                io.emend.cli.offline.TokenizeCommand.class,
                io.emend.cli.finetune.FinetuneCommand.class,
                io.emend.cli.edit.EditCommand.class,
                io.emend.cli.serve.ServeCommand.class,
                io.emend.cli.export.ExportCommand.class,
                io.emend.cli.datasets.DatasetsCommand.class,
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
        cl.setParameterExceptionHandler((e, args) -> {
            CommandLine cmd = e.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            cmd.getErr().println(name + ": " + oneLine(e) + " (see '" + name + " --help')");
            cmd.getErr().flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            if (e instanceof CommandLine.ParameterException usage) {
                return cmd.getParameterExceptionHandler().handleParseException(usage, parseResult.originalArgs().toArray(String[]::new));
            }
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + oneLine(e));
            if (System.getenv("EMEND_DEBUG") != null) {
                // for bug reports: the one line says what to do, the trace says where it came from
                e.printStackTrace(cmd.getErr());
            }
            cmd.getErr().flush();
            return 1;
        });
        return cl;
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.replaceAll("\\s*\\R\\s*", " ").strip();
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
