package io.emend.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmendTest {

    @Test
    void everyCommandAnswersHelpWithExitZero() {
        List<List<String>> paths = new ArrayList<>();
        collect(Emend.commandLine(), new ArrayList<>(), paths);
        assertTrue(paths.contains(List.of("aliases", "rollback")) && paths.contains(List.of("token")),
                "expected the whole command tree, got " + paths);
        for (List<String> path : paths) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            EmendRun run = EmendRun.of(args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), String.join(" ", args) + "\n" + run);
            assertTrue(run.out().startsWith("Usage: emend"), String.join(" ", args) + "\n" + run);
        }
    }

    private static void collect(CommandLine cl, List<String> prefix, List<List<String>> paths) {
        cl.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help")) {
                return;
            }
            List<String> path = new ArrayList<>(prefix);
            path.add(name);
            paths.add(path);
            collect(sub, path, paths);
        });
    }

    @Test
    void noArgumentsPrintsUsage() {
        EmendRun run = EmendRun.of();
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("Commands:"), run.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "frobnicate",
            "models --bogus",
            "models",
            "models show",
            "models show Bad_Upper",
            "models show a/../../etc",
            "versions show demo:x",
            "versions show demo:0",
            "versions show demo@prod:1",
            "versions list demo --state shiny",
            "aliases show demo",
            "aliases set demo@production two",
            "aliases set demo 2",
            "lineage demo --direction sideways",
            "resolve",
            "token",
            "token --role root",
            "token --role reader --ttl soon",
            "token --role reader --ttl 0s",
            "token --role reader --ttl 400d",
            "models list --size 0",
            "models list --registry ftp://example.org",
            "models import demo /definitely/not/here",
            "models import demo . --alias Prod!",
    })
    void usageErrorsExitTwoWithOneLineOnStderr(String command) {
        EmendRun run = EmendRun.of(command.split(" "));
        assertEquals(2, run.exitCode(), command + "\n" + run);
        assertEquals(1, run.errorLines().size(), command + "\n" + run);
        String line = run.errorLines().getFirst();
        assertTrue(line.startsWith("emend"), line);
        assertTrue(line.contains("--help"), "the error points at the help: " + line);
        assertFalse(run.err().contains("Exception"), "no stack trace: " + run);
    }

    @Test
    void versionIsPrinted() {
        EmendRun run = EmendRun.of("--version");
        assertEquals(0, run.exitCode());
        assertTrue(run.out().startsWith("emend "), run.out());
    }
}
