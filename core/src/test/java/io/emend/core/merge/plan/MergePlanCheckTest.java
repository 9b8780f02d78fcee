package io.emend.core.merge.plan;

import io.emend.core.merge.MergeException;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.merge.recipe.RecipeParser;
import io.emend.core.tensor.DType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link MergePlan#check}: the same verdicts as planning a merge, on model directories whose safetensors files hold
 * only their header (as the merger checks a request before it queues it), and the tokenizer check both share.
 */
class MergePlanCheckTest {

    private static final int LAYERS = 2;

    @TempDir
    Path tmp;

    @BeforeEach
    void models() throws IOException {
        TinyModels.write(tmp.resolve("a"), TinyModels.random(LAYERS, 1), DType.F32, LAYERS);
        TinyModels.write(tmp.resolve("b"), TinyModels.random(LAYERS, 2), DType.F32, LAYERS);
    }

    private MergeRecipe recipe(String yaml) throws IOException {
        Path file = tmp.resolve("recipe.yml");
        Files.writeString(file, yaml);
        return RecipeParser.read(file);
    }

    /**
     * A copy of a model directory whose safetensors files keep their real size but only the 8-byte length and the
     * header: every byte after it is a hole that reads as zeros.
     */
    private Path headersOnly(String model) throws IOException {
        Path from = tmp.resolve(model);
        Path to = Files.createDirectories(tmp.resolve("headers").resolve(model));
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(f.getFileName());
                if (!f.getFileName().toString().endsWith(".safetensors")) {
                    Files.copy(f, target);
                    continue;
                }
                byte[] bytes = Files.readAllBytes(f);
                long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                try (RandomAccessFile out = new RandomAccessFile(target.toFile(), "rw")) {
                    out.write(bytes, 0, (int) (8 + headerLength));
                    out.setLength(bytes.length);
                }
            }
        }
        return to;
    }

    private void writeVocabulary(String model, String vocab) throws IOException {
        Files.writeString(tmp.resolve(model).resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"BPE\", \"vocab\": " + vocab + "}}");
    }

    @Test
    void mismatchedTokenizersFailThePlanNamingBothModelsAndTheToken() throws IOException {
        writeVocabulary("a", "{\"x\": 0, \"y\": 1}");
        writeVocabulary("b", "{\"x\": 0, \"z\": 1}");
        String expected = "models 'a' and 'b' have different tokenizers (tokenizer.json: token 1 is \"y\" in 'a' and"
                + " \"z\" in 'b'); only models that number tokens alike can be merged";
        MergeRecipe linear = recipe("merge_method: linear\nmodels: [{model: a}, {model: b}]\n");
        MergeException e = assertThrows(MergeException.class, () -> MergePlan.create(linear, tmp::resolve));
        assertEquals(expected, e.getMessage());
        e = assertThrows(MergeException.class, () -> MergePlan.check(linear, tmp::resolve));
        assertEquals(expected, e.getMessage());
    }

    @Test
    void theBaseIsTheReferenceAndAModelWithoutTokenizerPasses() throws IOException {
        writeVocabulary("a", "{\"x\": 0}");
        writeVocabulary("b", "{\"x\": 0, \"w\": 1}");
        MergeException e = assertThrows(MergeException.class, () -> MergePlan.check(recipe(
                "merge_method: task_arithmetic\nbase_model: b\nmodels: [{model: a, parameters: {weight: 1}}]\n"), tmp::resolve));
        assertEquals("models 'b' and 'a' have different tokenizers (tokenizer.json: 2 tokens in 'b' and 1 in 'a';"
                + " token 1 is \"w\" in 'b' and absent in 'a'); only models that number tokens alike can be merged",
                e.getMessage());
        Files.delete(tmp.resolve("a").resolve("tokenizer.json"));
        MergePlan.check(recipe("merge_method: task_arithmetic\nbase_model: b\nmodels: [{model: a, parameters: {weight: 1}}]\n"), tmp::resolve);
    }

    @Test
    void headersAloneGiveTheVerdictsOfTheRealFiles() throws IOException {
        MergeRecipe linear = recipe("merge_method: linear\nmodels: [{model: a}, {model: b}]\n");
        Path a = headersOnly("a");
        Path b = headersOnly("b");
        MergePlan.check(linear, ref -> ref.equals("a") ? a : b);
        try (MergePlan fromHeaders = MergePlan.create(linear, ref -> ref.equals("a") ? a : b);
             MergePlan fromFiles = MergePlan.create(linear, tmp::resolve)) {
            assertEquals(fromFiles.tensors().stream().map(PlannedTensor::output).toList(),
                    fromHeaders.tensors().stream().map(PlannedTensor::output).toList());
        }

        Map<String, float[]> missing = TinyModels.random(LAYERS, 3);
        missing.remove("model.layers.1.mlp.up_proj.weight");
        TinyModels.write(tmp.resolve("missing"), missing, DType.F32, LAYERS);
        Path m = headersOnly("missing");
        MergeException e = assertThrows(MergeException.class, () -> MergePlan.check(
                recipe("merge_method: linear\nmodels: [{model: a}, {model: missing}]\n"),
                ref -> ref.equals("a") ? a : m));
        assertEquals("tensor 'model.layers.1.mlp.up_proj.weight': model 'missing' has no such tensor", e.getMessage());

        Files.writeString(tmp.resolve("headers").resolve("b").resolve("config.json"), "{\"model_type\": \"gpt2\"}");
        e = assertThrows(MergeException.class, () -> MergePlan.check(linear, ref -> ref.equals("a") ? a : b));
        assertEquals("models 'a' and 'b' have different model_type (\"llama\" and \"gpt2\"); only models of one"
                + " architecture can be merged", e.getMessage());
    }

    @Test
    void checkingWritesNothing() throws IOException {
        MergeRecipe slerp = recipe("merge_method: slerp\nbase_model: a\nmodels: [{model: a}, {model: b}]\n"
                + "parameters: {t: 0.5}\n");
        List<Path> before;
        try (Stream<Path> s = Files.walk(tmp)) {
            before = s.sorted().toList();
        }
        MergePlan.check(slerp, tmp::resolve);
        try (Stream<Path> s = Files.walk(tmp)) {
            assertEquals(before, s.sorted().toList());
        }
    }
}
