package io.emend.cli.edit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import io.emend.core.delta.EditDelta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EditCommandTest {

    private static final Path MODEL = Path.of(System.getProperty("emend.fixtures"), "stories260k");
    private static final Path CORPUS = MODEL.resolve("tinystories-valid.txt");
    private static final String REQUESTS = """
            [{"prompt": "Lily liked to eat", "subject": "Lily", "target_new": "rocks", "ground_truth": "cake",
              "locality_prompt": "Tom liked to eat", "locality_ground_truth": "cake"},
             {"prompt": "The {}'s name was", "subject": "dog", "target_new": "Sam", "ground_truth": "Max"}]""";

    @Test
    void editsAModelAndWritesItsDeltaAndMetrics(@TempDir Path tmp) throws IOException {
        Path requests = Files.writeString(tmp.resolve("facts.json"), REQUESTS);
        Path out = tmp.resolve("edited");
        Path stats = tmp.resolve("stats.safetensors");
        // A short held-out text keeps the four perplexity passes of this test quick.
        Path heldout = Files.writeString(tmp.resolve("heldout.txt"), Files.readString(CORPUS).substring(0, 1500));
        EmendRun run = EmendRun.of("edit", "--model", MODEL.toString(), "--requests", requests.toString(), "--method",
                "memit", "--out", out.toString(), "--stats", stats.toString(), "--corpus", CORPUS.toString(),
                "--stats-tokens", "2000", "--fluency-prompts", "1", "--heldout", heldout.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().startsWith("memit: 2 edits"), run.out());
        assertTrue(Files.exists(stats), "statistics written for reuse");
        for (String f : List.of("config.json", "tokenizer.json", "model.safetensors", EditDelta.FILE_NAME,
                EditCommand.METRICS_FILE)) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        assertEquals(2, EditDelta.read(out.resolve(EditDelta.FILE_NAME)).edits());
        JsonNode metrics = new ObjectMapper().readTree(out.resolve(EditCommand.METRICS_FILE).toFile());
        assertEquals(2, metrics.path("per_edit").size());
        assertEquals(0.0, metrics.path("summary").path("efficacy_before").asDouble());
        assertTrue(metrics.path("summary").path("efficacy").asDouble() > 0, metrics.toString());

        // The edited directory is a model every command loads; the statistics are reused on the next edit.
        EmendRun logits = EmendRun.of("generate", "--model", out.toString(), "--prompt", "Lily liked to eat",
                "--max-tokens", "3");
        assertEquals(0, logits.exitCode(), logits.toString());
        Path again = tmp.resolve("again");
        EmendRun reuse = EmendRun.of("edit", "--model", MODEL.toString(), "--requests", requests.toString(),
                "--method", "rome", "--out", again.toString(), "--stats", stats.toString(), "--fluency-prompts", "1",
                "--heldout", heldout.toString());
        assertEquals(0, reuse.exitCode(), reuse.toString());
    }

    @Test
    void badInputGetsOneLineAndNothingIsWritten(@TempDir Path tmp) throws IOException {
        Path good = Files.writeString(tmp.resolve("good.json"), REQUESTS);
        Path bad = Files.writeString(tmp.resolve("bad.json"),
                "[{\"prompt\": \"Ann plays\", \"subject\": \"Bob\", \"target_new\": \"chess\"}]");
        Path out = tmp.resolve("out");
        String[] common = {"--model", MODEL.toString(), "--out", out.toString(), "--corpus", CORPUS.toString()};

        expect(1, "requests[0].subject: \"Bob\" does not occur", run(common, "--requests", bad.toString()));
        expect(1, "no such requests file", run(common, "--requests", tmp.resolve("missing.json").toString()));
        expect(2, "unknown edit method 'mend'", run(common, "--requests", good.toString(), "--method", "mend"));
        expect(2, "--layers must be A or A-B", run(common, "--requests", good.toString(), "--layers", "3-1"));
        expect(1, "outside the model's 5 layers", run(common, "--requests", good.toString(), "--layers", "7"));
        EmendRun noStats = EmendRun.of("edit", "--model", MODEL.toString(), "--out", out.toString(), "--requests",
                good.toString());
        expect(2, "key statistics are needed", noStats);
        assertFalse(Files.exists(out), "nothing written for rejected input");

        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "x");
        expect(1, "output directory is not empty", run(common, "--requests", good.toString()));
    }

    private static EmendRun run(String[] common, String... more) {
        String[] args = new String[common.length + more.length + 1];
        args[0] = "edit";
        System.arraycopy(common, 0, args, 1, common.length);
        System.arraycopy(more, 0, args, 1 + common.length, more.length);
        return EmendRun.of(args);
    }

    private static void expect(int code, String message, EmendRun run) {
        assertEquals(code, run.exitCode(), run.toString());
        List<String> lines = run.errorLines();
        assertEquals(1, lines.size(), run.toString());
        assertTrue(lines.getFirst().contains(message), run.toString());
    }
}
