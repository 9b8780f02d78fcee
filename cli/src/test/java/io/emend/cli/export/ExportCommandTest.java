package io.emend.cli.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.cli.EmendRun;
import io.emend.core.format.gguf.GgmlType;
import io.emend.core.format.gguf.GgufFile;
import io.emend.core.format.gguf.GgufTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code emend export} on the fixtures: the file llama.cpp would read, and one-line errors for bad input. */
class ExportCommandTest {

    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return Path.of(System.getProperty("emend.fixtures")).resolve(name);
    }

    @Test
    void writesEachTypeWithMatricesInItAndNormsInF32() throws IOException {
        for (GgmlType type : GgmlType.values()) {
            Path out = tmp.resolve("tiny-" + type + ".gguf");
            EmendRun run = EmendRun.of("export", "--model", fixture("tiny-llama").toString(), "--format", "gguf",
                    "--quant", type.name().toLowerCase(), "--out", out.toString());
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.out().startsWith("wrote " + out + ": "), run.out());
            try (GgufFile gguf = GgufFile.open(out)) {
                assertEquals("llama", gguf.requireMetadata("general.architecture").asString());
                // tiny-llama: 2 layers x 9 tensors, embedding, final norm, untied head
                assertEquals(2 * 9 + 3, gguf.tensors().size());
                for (GgufTensor t : gguf.tensors()) {
                    assertEquals(t.shape().length == 1 ? GgmlType.F32 : type, t.type(), t.toString());
                }
                assertArrayEquals(new long[] {256, 64}, gguf.tensor("token_embd.weight").orElseThrow().shape());
            }
        }
    }

    @Test
    void badInputIsOneLineAndWritesNothing() throws IOException {
        String model = fixture("tiny-llama").toString();
        String out = tmp.resolve("m.gguf").toString();
        assertUsage(EmendRun.of("export", "--model", model, "--format", "onnx", "--out", out), "--format must be gguf");
        assertUsage(EmendRun.of("export", "--model", model, "--quant", "q5_k", "--out", out), "--quant must be");
        assertUsage(EmendRun.of("export", "--model", tmp.resolve("nope").toString(), "--out", out),
                "not a model directory");
        assertUsage(EmendRun.of("export", "--model", tmp.toString(), "--out", out), "no config.json");
        assertUsage(EmendRun.of("export", "--model", model, "--out", tmp.resolve("no/such/dir/m.gguf").toString()),
                "does not exist");
        assertUsage(EmendRun.of("export", "--model", model, "--out", tmp.toString()), "is a directory");
        assertUsage(EmendRun.of("export", "--model", model), "--out");
        assertListing("nothing written by a usage error");

        // GPT-2 is not llama.cpp's llama architecture: a failure (exit 1), in one line, and no partial file.
        EmendRun gpt2 = EmendRun.of("export", "--model", fixture("tiny-gpt2").toString(), "--out", out);
        assertEquals(1, gpt2.exitCode(), gpt2.toString());
        assertEquals(1, gpt2.errorLines().size(), gpt2.err());
        assertTrue(gpt2.err().contains("gpt2"), gpt2.err());
        assertListing("no temporary or partial file after a failure");

        Files.writeString(tmp.resolve("m.gguf"), "keep me");
        assertUsage(EmendRun.of("export", "--model", model, "--out", out), "add --force");
        assertEquals("keep me", Files.readString(tmp.resolve("m.gguf")));
        EmendRun forced = EmendRun.of("export", "--model", model, "--out", out, "--force");
        assertEquals(0, forced.exitCode(), forced.toString());
        try (GgufFile gguf = GgufFile.open(tmp.resolve("m.gguf"))) {
            assertEquals(GgmlType.Q8_0, gguf.tensor("blk.0.attn_q.weight").orElseThrow().type(), "q8_0 by default");
        }
    }

    private void assertListing(String why) throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            assertFalse(files.findAny().isPresent(), why);
        }
    }

    private static void assertUsage(EmendRun run, String fragment) {
        assertEquals(2, run.exitCode(), run.toString());
        assertEquals(1, run.errorLines().size(), "one line: " + run.err());
        assertTrue(run.err().contains(fragment), "stderr should mention '" + fragment + "': " + run.err());
    }
}
