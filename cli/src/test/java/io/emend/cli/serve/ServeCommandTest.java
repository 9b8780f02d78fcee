package io.emend.cli.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.cli.Emend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code emend serve}'s bad input: a one-line usage error and exit code 2, before any service JVM starts. */
class ServeCommandTest {

    private static final Path STORIES = Path.of(System.getProperty("emend.fixtures", "../../shared/fixtures"), "stories260k");

    private static String[] run(int expectedExit, String... args) {
        CommandLine cl = Emend.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        assertEquals(expectedExit, cl.execute(args), err.toString());
        return err.toString().lines().toArray(String[]::new);
    }

    @Test
    void rejectsWhatCannotBeServed(@TempDir Path empty) throws Exception {
        String[] noConfig = run(2, "serve", "--model", empty.toString());
        assertEquals(1, noConfig.length);
        assertTrue(noConfig[0].contains("has no config.json"), noConfig[0]);

        Path file = Files.writeString(empty.resolve("model.gguf"), "GGUF");
        assertTrue(run(2, "serve", "--model", file.toString())[0].contains("no tokenizer.json beside"));
        Path other = Files.writeString(empty.resolve("model.bin"), "weights");
        assertTrue(run(2, "serve", "--model", other.toString())[0].contains("not a .gguf"));
        assertTrue(run(2, "serve", "--model", STORIES.toString(), "--quant", "q9")[0].contains("--quant"));
        assertTrue(run(2, "serve", "--model", STORIES.toString(), "--port", "70000")[0].contains("--port"));
        assertTrue(run(2, "serve", "--model", STORIES.toString(), "--adapter", "x=" + empty.resolve("nope"))[0]
                .contains("--adapter x"));
        assertTrue(run(2, "serve")[0].contains("--model"));
    }
}
