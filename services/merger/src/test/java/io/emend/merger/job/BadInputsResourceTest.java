package io.emend.merger.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.contracts.event.EventTypes;
import io.emend.merger.TinyLlama;
import io.emend.service.input.InputCache;
import io.emend.service.registry.NewVersion;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import jakarta.inject.Inject;
import io.emend.service.stack.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static io.emend.merger.MergerApi.as;
import static io.emend.merger.MergerApi.awaitState;
import static io.emend.merger.MergerApi.importModel;
import static io.emend.merger.MergerApi.jobEvents;
import static io.emend.merger.MergerApi.registry;
import static io.emend.merger.MergerApi.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each kind of bad input model against the real registry, PostgreSQL and Kafka: variants of the tiny-llama fixture
 * (another architecture, a transposed tensor, a missing tensor, another vocabulary) are rejected at the POST with a 422
 * problem, before any job or version exists, and without downloading their weights; a NaN weight, which only the
 * data shows, fails the job with the same problem and registers nothing.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputsResourceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRANSPOSED = "model.layers.1.mlp.up_proj.weight";
    private static final String REMOVED = "model.norm.weight";
    private static final String POISONED = "model.layers.0.self_attn.v_proj.weight";

    @Inject
    RegistryClient registryClient;

    private String source;
    private Path variants;

    @BeforeAll
    void importInputs() throws IOException {
        source = unique("tiny");
        variants = Files.createTempDirectory("tiny-variants");
        importModel(source, TinyLlama.FIXTURE.toAbsolutePath());
    }

    /** A clean copy of the fixture (config, tokenizer, F32 weights) changed by {@code edit}, imported as {@code name:1}. */
    private String variant(String prefix, Consumer<Path> edit) throws IOException {
        String name = unique(prefix);
        Path dir = TinyLlama.shifted(TinyLlama.FIXTURE, variants.resolve(name), 0f);
        edit.accept(dir);
        importModel(name, dir.toAbsolutePath());
        return name;
    }

    /**
     * The same, for weights the registry's import refuses (shapes that contradict config.json, a tensor missing):
     * registered as a merge of the fixture would be, file by file, as {@code name:1}. Such a version can exist, since
     * only imports are checked against their config.
     */
    private String registered(String prefix, Consumer<Path> edit) throws IOException {
        String name = unique(prefix);
        Path dir = TinyLlama.shifted(TinyLlama.FIXTURE, variants.resolve(name), 0f);
        edit.accept(dir);
        List<ResolvedVersion.ManifestEntry> manifest = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                manifest.add(new ResolvedVersion.ManifestEntry(f.getFileName().toString(), InputCache.sha256(f),
                        Files.size(f), "application/octet-stream"));
            }
        }
        registryClient.ensureModel(name, "a bad input for the merger's tests");
        int number = registryClient.createVersion(name, new NewVersion("merge",
                List.of(new NewVersion.Parent(source + ":1", "merged-from")), null, null, manifest, null));
        for (ResolvedVersion.ManifestEntry entry : manifest) {
            registryClient.uploadArtifact(name, number, entry.path(), dir.resolve(entry.path()), entry.sha256());
        }
        registryClient.setState(name, number, "ready", null);
        return name;
    }

    /** Rewrites the weights through {@code edit} on name → (shape, values), in the file's order. */
    private static void weights(Path dir, Consumer<Map<String, Map.Entry<long[], float[]>>> edit) {
        try {
            Path file = dir.resolve("model.safetensors");
            byte[] bytes = Files.readAllBytes(file);
            int headerLength = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            JsonNode header = JSON.readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
            Map<String, float[]> values = TinyLlama.tensors(bytes);
            Map<String, Map.Entry<long[], float[]>> tensors = new LinkedHashMap<>();
            values.forEach((name, v) -> {
                long[] shape = new long[header.get(name).get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = header.get(name).get("shape").get(i).asLong();
                }
                tensors.put(name, Map.entry(shape, v));
            });
            edit.accept(tensors);
            Files.delete(file);
            TinyLlama.write(file, tensors);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void json(Path file, Consumer<ObjectNode> edit) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
            edit.accept(root);
            Files.writeString(file, JSON.writeValueAsString(root));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** POSTs a linear merge of the fixture and {@code other}; asserts the 422 problem and that nothing was made. */
    private void rejected(String recipe, String output, String detail) {
        as(Tokens.writer()).contentType("application/yaml").body(recipe + "output: {model: " + output + "}\n")
                .post("/v1/merges").then().statusCode(422).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:invalid-input"))
                .body("title", equalTo("Unprocessable Content"))
                .body("status", equalTo(422))
                .body("detail", equalTo(detail))
                .body("instance", equalTo("/v1/merges"));
        as(Tokens.reader()).get("/v1/merges").then().statusCode(200).body("items.model", not(hasItem(output)));
        given().auth().oauth2(Tokens.reader()).get(registry() + "/v1/models/{m}", output).then().statusCode(404);
        Path work = Path.of(ConfigProvider.getConfig().getValue("emend.merger.storage.work-dir", String.class));
        if (Files.isDirectory(work)) {
            try (Stream<Path> s = Files.list(work)) {
                assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("check-")),
                        "the check's scratch directory is deleted");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private String linear(String other) {
        return "merge_method: linear\nmodels:\n  - model: " + source + ":1\n  - model: " + other + ":1\n";
    }

    @Test
    void anotherArchitectureIs422() throws IOException {
        String other = variant("mistral", dir -> json(dir.resolve("config.json"),
                c -> c.put("model_type", "mistral")));
        rejected(linear(other), unique("arch"), "models '" + source + ":1' and '" + other + ":1' have different"
                + " model_type (\"llama\" and \"mistral\"); only models of one architecture can be merged");
    }

    /** Also shows the check reads headers only: the variant's weights never reach the merger's cache. */
    @Test
    void aShapeMismatchIs422AndTheWeightsAreNotDownloaded() throws IOException {
        String other = registered("transposed", dir -> weights(dir, t -> {
            long[] shape = t.get(TRANSPOSED).getKey();
            t.put(TRANSPOSED, Map.entry(new long[] {shape[1], shape[0]}, t.get(TRANSPOSED).getValue()));
        }));
        rejected(linear(other), unique("shape"), "tensor '" + TRANSPOSED + "': model '" + other
                + ":1' has shape [64, 160] but model '" + source + ":1' has [160, 64]");
        String sha = InputCache.sha256(variants.resolve(other).resolve("model.safetensors"));
        Path cache = Path.of(ConfigProvider.getConfig().getValue("emend.merger.storage.cache-dir", String.class));
        assertFalse(Files.exists(cache.resolve(sha.substring(0, 2)).resolve(sha)),
                "the weights of a rejected input are not downloaded");
    }

    @Test
    void aMissingTensorIs422() throws IOException {
        String other = registered("missing", dir -> weights(dir, t -> t.remove(REMOVED)));
        rejected(linear(other), unique("missing"), "tensor '" + REMOVED + "': model '" + other
                + ":1' has no such tensor");
    }

    @Test
    void aLayerRangePastTheModelIs422() {
        rejected("merge_method: linear\nslices:\n  - sources:\n      - model: " + source + ":1\n"
                + "        layer_range: [0, 3]\n", unique("range"), "model '" + source + ":1' has 2 layers;"
                + " layer_range [0, 3] runs past them");
    }

    @Test
    void anotherVocabularyIs422() throws IOException {
        String other = variant("vocab", dir -> json(dir.resolve("tokenizer.json"), t -> {
            ObjectNode vocab = (ObjectNode) t.get("model").get("vocab");
            String piece = null;
            for (var it = vocab.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getValue().asInt() == 17) {
                    piece = e.getKey();
                }
            }
            vocab.remove(piece);
            vocab.put("<renamed>", 17);
        }));
        rejected(linear(other), unique("vocab"), "models '" + source + ":1' and '" + other + ":1' have different"
                + " tokenizers (tokenizer.json: token 17 is \"đ\" in '" + source + ":1' and \"<renamed>\" in '"
                + other + ":1'); only models that number tokens alike can be merged");
    }

    @Test
    void aNaNWeightFailsTheJobWithTheSameProblemAndRegistersNothing() throws IOException {
        String other = variant("nan", dir -> weights(dir, t -> t.get(POISONED).getValue()[5] = Float.NaN));
        String output = unique("poisoned");
        String id = as(Tokens.writer()).contentType("application/yaml")
                .body(linear(other) + "output: {model: " + output + "}\n")
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        String detail = "tensor '" + POISONED + "' of model '" + other + ":1' has a non-finite value (NaN) at element 5";
        awaitState(id, "failed")
                .body("message", equalTo(detail))
                .body("problem.type", equalTo("urn:emend:problem:invalid-input"))
                .body("problem.title", equalTo("Unprocessable Content"))
                .body("problem.status", equalTo(422))
                .body("problem.detail", equalTo(detail))
                .body("problem.instance", equalTo("/v1/merges/" + id))
                .body("version", org.hamcrest.Matchers.nullValue());
        given().auth().oauth2(Tokens.reader()).get(registry() + "/v1/models/{m}", output).then().statusCode(404);
        List<String> types = jobEvents(id, EventTypes.JOB_FAILED).stream().map(e -> e.type()).toList();
        assertTrue(types.getLast().equals(EventTypes.JOB_FAILED), types.toString());
    }
}
