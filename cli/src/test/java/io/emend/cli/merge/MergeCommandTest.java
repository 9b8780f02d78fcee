package io.emend.cli.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.Emend;
import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.model.LlamaConfig;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MergeCommandTest {

    @TempDir
    Path tmp;
    private final Map<String, float[]> base = new HashMap<>();
    private final Map<String, float[]> shifted = new HashMap<>();
    private int tensorCount;

    private record Run(int exit, String out, String err) {
    }

    private static Run emend(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Emend.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** models/base is the tiny-llama fixture; models/shifted adds 0.25 to every weight. */
    @BeforeEach
    void models() throws IOException {
        Path fixture = Path.of(System.getProperty("emend.fixtures"), "tiny-llama");
        Path baseDir = Files.createDirectories(tmp.resolve("models/base"));
        Path shiftedDir = Files.createDirectories(tmp.resolve("models/shifted"));
        for (String f : new String[] {"config.json", "tokenizer.json", "model.safetensors"}) {
            Files.copy(fixture.resolve(f), baseDir.resolve(f));
        }
        Files.copy(fixture.resolve("config.json"), shiftedDir.resolve("config.json"));
        try (TensorSource s = ShardedCheckpoint.open(baseDir, Optional.empty());
             SafetensorsWriter w = SafetensorsWriter.create(shiftedDir.resolve("model.safetensors"), s.tensors(), Map.of())) {
            for (TensorInfo t : s.tensors()) {
                float[] v = s.floats(t.name());
                base.put(t.name(), v);
                float[] p = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    p[i] = v[i] + 0.25f;
                }
                shifted.put(t.name(), p);
                w.write(t.name(), p);
            }
            w.commit();
            tensorCount = s.tensors().size();
        }
    }

    @Test
    void mergesARecipeIntoAHuggingFaceDirectoryWithAProgressBar() throws IOException {
        Path recipe = tmp.resolve("recipe.yml");
        Files.writeString(recipe, """
                merge_method: task_arithmetic
                base_model: models/base
                models:
                  - model: models/shifted
                    parameters:
                      weight: 1.0
                parameters:
                  lambda: 0.5
                dtype: float32
                tokenizer_source: base
                """);
        Run run = emend("merge", recipe.toString(), tmp.resolve("out").toString(), "--json", "--max-shard-size", "20000");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("] " + tensorCount + "/" + tensorCount + " tensors"), run.err());
        JsonNode result = new ObjectMapper().readTree(run.out());
        assertEquals(tensorCount, result.get("tensors").asInt());
        assertEquals("task_arithmetic", result.get("method").asText());
        Path out = Path.of(result.get("output").asText());
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")), "sharded at 20 kB");
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        assertEquals(2, ((LlamaConfig) HfConfig.read(out.resolve("config.json"))).numLayers());
        try (TensorSource s = ShardedCheckpoint.open(out, Optional.empty())) {
            assertEquals(tensorCount, s.tensors().size());
            for (TensorInfo t : s.tensors()) {
                float[] b = base.get(t.name());
                float[] p = shifted.get(t.name());
                float[] want = new float[b.length];
                for (int i = 0; i < b.length; i++) {
                    want[i] = (float) (b[i] + 0.5 * (p[i] - b[i]));
                }
                assertArrayEquals(want, s.floats(t.name()), 0f, t.name());
            }
        }
    }

    @Test
    void withoutJsonPrintsASummaryLine() throws IOException {
        Path recipe = tmp.resolve("soup.json");
        Files.writeString(recipe, "{\"merge_method\": \"linear\", \"models\": [{\"model\": \"models/base\"}, {\"model\": \""
                + tmp.resolve("models/shifted").toAbsolutePath() + "\"}]}");
        Run run = emend("merge", recipe.toString(), tmp.resolve("soup").toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().startsWith("merged " + tensorCount + " tensors"), run.out());
        assertTrue(Files.exists(tmp.resolve("soup/merge_recipe.json")));
    }

    @Test
    void aBadRecipeIsOneLineWithItsLineNumberAndExitOne() throws IOException {
        Path recipe = tmp.resolve("bad.yml");
        Files.writeString(recipe, "merge_method: linear\nmodels:\n  - model: models/base\n    weight: 2\n");
        Run run = emend("merge", recipe.toString(), tmp.resolve("never").toString());
        assertEquals(1, run.exit());
        assertEquals("emend merge: bad.yml:4: unsupported key 'weight' in a models entry (supported: model, parameters)\n",
                run.err());
        assertFalse(Files.exists(tmp.resolve("never")));
    }

    @Test
    void aMissingRecipeOrModelIsOneLineAndExitOne() throws IOException {
        Run missing = emend("merge", tmp.resolve("nope.yml").toString(), tmp.resolve("o").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("emend merge: ") && missing.err().contains("no such recipe file")
                && missing.err().indexOf('\n') == missing.err().length() - 1, missing.err());
        Path recipe = tmp.resolve("r.yml");
        Files.writeString(recipe, "merge_method: linear\nmodels: [{model: models/base}, {model: models/ghost}]\n");
        Run ghost = emend("merge", recipe.toString(), tmp.resolve("o").toString());
        assertEquals(1, ghost.exit());
        assertTrue(ghost.err().contains("model 'models/ghost'"), ghost.err());
    }
}
