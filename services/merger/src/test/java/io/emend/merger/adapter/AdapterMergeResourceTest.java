package io.emend.merger.adapter;

import io.emend.contracts.event.EventTypes;
import io.emend.merger.TinyLlama;
import io.emend.service.input.InputCache;
import io.emend.service.stack.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static io.emend.merger.MergerApi.artifact;
import static io.emend.merger.MergerApi.as;
import static io.emend.merger.MergerApi.awaitState;
import static io.emend.merger.MergerApi.importModel;
import static io.emend.merger.MergerApi.jobEvents;
import static io.emend.merger.MergerApi.registry;
import static io.emend.merger.MergerApi.registryGet;
import static io.emend.merger.MergerApi.unique;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapter requests over REST against the real registry (child process), PostgreSQL and Kafka. tiny-llama is imported
 * as a base, and three PEFT adapters are registered as versions of their own model with an {@code adapter-of} parent,
 * the way the trainer registers a fine-tune: two of that base (different ranks' scales and modules), one of another
 * base. The test writes the adapters' factors itself and checks the results against products it computes in double.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdapterMergeResourceTest {

    private static final String Q0 = "model.layers.0.self_attn.q_proj";
    private static final String V0 = "model.layers.0.self_attn.v_proj";
    private static final String Q1 = "model.layers.1.self_attn.q_proj";
    /** tiny-llama's shapes [out, in]: 4 heads × 16 for q, 2 kv heads × 16 for v, hidden 64. */
    private static final Map<String, int[]> SHAPES = Map.of(Q0, new int[] {64, 64}, V0, new int[] {32, 64},
            Q1, new int[] {64, 64});

    private String base;
    private String otherBase;
    /** adapter-of base: r 2, alpha 4 (scale 2), on Q0 and V0. */
    private Adapter first;
    /** adapter-of base: r 2, alpha 2 (scale 1), on Q0 and Q1. */
    private Adapter second;
    /** adapter-of the other base. */
    private Adapter foreign;

    /** An adapter this test registered: its exact reference, scale and factors per module. */
    record Adapter(String ref, double scale, Map<String, float[][]> factors) {
        /** scale · B·A of a module, [out][in], zero where the adapter does not touch it. */
        double[][] dense(String module) {
            int[] shape = SHAPES.get(module);
            double[][] w = new double[shape[0]][shape[1]];
            float[][] f = factors.get(module);
            if (f == null) {
                return w;
            }
            int r = f[0].length / shape[1];
            for (int o = 0; o < shape[0]; o++) {
                for (int i = 0; i < shape[1]; i++) {
                    double sum = 0;
                    for (int k = 0; k < r; k++) {
                        sum += (double) f[1][o * r + k] * f[0][k * shape[1] + i];
                    }
                    w[o][i] = scale * sum;
                }
            }
            return w;
        }
    }

    @BeforeAll
    void registerInputs() throws IOException {
        // the fixture directory also holds F16 and BF16 copies of the weights; the base is its F32 files alone
        Path clean = TinyLlama.shifted(TinyLlama.FIXTURE, Files.createTempDirectory("tiny").resolve("f32"), 0);
        String baseModel = unique("tiny-base");
        importModel(baseModel, clean.toAbsolutePath());
        base = baseModel + ":1";
        String otherModel = unique("tiny-other");
        importModel(otherModel, clean.toAbsolutePath());
        otherBase = otherModel + ":1";
        String lora = unique("tiny-lora");
        first = registerAdapter(lora, base, 2, 4, List.of(Q0, V0), 1);
        second = registerAdapter(lora, base, 2, 2, List.of(Q0, Q1), 2);
        foreign = registerAdapter(unique("other-lora"), otherBase, 2, 4, List.of(Q0), 3);
    }

    @Test
    void catCombinesExactlyIntoAnAdapterOfTheSameBase() throws IOException {
        String output = unique("cat");
        String id = as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: cat
                adapters:
                  - adapter: %s
                    parameters: {weight: 0.5}
                  - adapter: %s
                    parameters: {weight: 2}
                output:
                  model: %s
                  alias: candidate
                """.formatted(first.ref(), second.ref(), output))
                .post("/v1/merges").then().statusCode(202).body("state", equalTo("queued"))
                .body("inputs.'" + base + "'", equalTo(base)).extract().path("id");
        awaitState(id, "succeeded").body("version", equalTo(output + ":1"));
        registryGet("/v1/models/" + output + "/versions/1")
                .body("state", equalTo("ready"))
                .body("operation", equalTo("merge"))
                .body("parents.size()", equalTo(3))
                .body("parents.find { it.role == 'adapter-of' }.model", equalTo(model(base)))
                .body("parents.find { it.role == 'adapter-of' }.number", equalTo(1))
                .body("parents.findAll { it.role == 'merged-from' }.size()", equalTo(2))
                .body("recipe.request.merge_method", equalTo("cat"))
                .body("metrics.rank", equalTo(4))
                .body("metrics.reconstruction_error.max", equalTo(0.0f))
                .body("manifest.path", hasItems("adapter_config.json", "adapter_model.safetensors"));
        registryGet("/v1/models/" + output + "/aliases/candidate").body("version", equalTo(1));
        Adapter merged = readAdapter(output, 1);
        for (String module : List.of(Q0, V0, Q1)) {
            double[][] expected = sum(0.5, first.dense(module), 2, second.dense(module));
            // F32 factors, r ≤ 4 products of values below 1: a few ulps of the largest term
            assertClose(expected, merged.dense(module), 1e-5, module);
        }
        assertEquals(EventTypes.JOB_SUCCEEDED, jobEvents(id, EventTypes.JOB_SUCCEEDED).getLast().type());
    }

    @Test
    void linearToALowerRankReportsTheReconstructionErrorItMade() throws IOException {
        String output = unique("linear");
        String id = as(Tokens.writer()).body("""
                {"merge_method": "linear",
                 "adapters": [{"adapter": "%s", "parameters": {"weight": 1}}, {"adapter": "%s"}],
                 "parameters": {"rank": 1},
                 "output": {"model": "%s"}}
                """.formatted(first.ref(), second.ref(), output))
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded");
        var version = registryGet("/v1/models/" + output + "/versions/1").body("metrics.rank", equalTo(1)).extract();
        Adapter merged = readAdapter(output, 1);
        double reportedMax = version.<Number>path("metrics.reconstruction_error.max").doubleValue();
        double worst = 0;
        for (String module : List.of(Q0, V0, Q1)) {
            double[][] dense = sum(1, first.dense(module), 1, second.dense(module));
            double error = frobenius(sum(1, dense, -1, merged.dense(module))) / frobenius(dense);
            double reported = version.<Number>path("metrics.reconstruction_error.modules.'" + module + "'").doubleValue();
            // the service's error is computed in double from the F32 factors it wrote: agreement to F32 rounding
            assertEquals(error, reported, 1e-4, module);
            worst = Math.max(worst, error);
        }
        // Q0 carries two independent rank-2 products: rank 1 cannot hold them
        assertTrue(worst > 0.05, "rank 1 of a rank-4 sum loses something, got " + worst);
        assertEquals(worst, reportedMax, 1e-4);
    }

    @Test
    void dareTiesRefactorizesToTheTargetRank() throws IOException {
        String output = unique("dare");
        String id = as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: dare_ties
                adapters:
                  - adapter: %s
                  - adapter: %s
                parameters: {rank: 3, density: 0.5}
                random_seed: 11
                output:
                  model: %s
                """.formatted(first.ref(), second.ref(), output))
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded");
        registryGet("/v1/models/" + output + "/versions/1").body("metrics.rank", equalTo(3))
                .body("recipe.request.parameters.density", equalTo(0.5f));
        Adapter merged = readAdapter(output, 1);
        assertEquals(3 * 64, merged.factors().get(Q0)[0].length);
        assertEquals(3 * 64, merged.factors().get(Q1)[1].length);
    }

    @Test
    void materializeFoldsTheAdapterIntoItsBaseAndMeasuresPerplexity() throws IOException {
        String output = unique("folded");
        String text = "data:,the cat sat on the mat.%0A%0Aa dog ran in the park and the sun was warm.";
        String id = as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: materialize
                adapter: %s
                evaluation:
                  text: "%s"
                output:
                  model: %s
                """.formatted(first.ref(), text, output))
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded");
        var version = registryGet("/v1/models/" + output + "/versions/1")
                .body("state", equalTo("ready"))
                .body("parents.find { it.role == 'base' }.model", equalTo(model(base)))
                .body("parents.find { it.role == 'base' }.number", equalTo(1))
                .body("parents.find { it.role == 'merged-from' }.model", equalTo(model(first.ref())))
                .body("manifest.path", hasItems("config.json", "tokenizer.json", "model.safetensors"))
                .extract();
        Map<String, float[]> folded = TinyLlama.tensors(artifact(output, 1, "model.safetensors"));
        Map<String, float[]> original = TinyLlama.original();
        assertEquals(original.keySet(), folded.keySet());
        for (var e : original.entrySet()) {
            String module = e.getKey().substring(0, e.getKey().length() - ".weight".length());
            double[][] delta = first.factors().containsKey(module) ? first.dense(module) : null;
            for (int j = 0; j < e.getValue().length; j++) {
                double expected = e.getValue()[j];
                if (delta != null) {
                    int in = SHAPES.get(module)[1];
                    expected += delta[j / in][j % in];
                }
                // W + s·B·A summed in double, stored F32: within an ulp of the result
                assertEquals(expected, folded.get(e.getKey())[j], delta == null ? 0 : 1e-6, e.getKey() + "[" + j + "]");
            }
        }
        double unmerged = version.<Number>path("metrics.perplexity.unmerged").doubleValue();
        double materialized = version.<Number>path("metrics.perplexity.materialized").doubleValue();
        assertTrue(unmerged > 1 && Double.isFinite(unmerged), "perplexity " + unmerged);
        // without quantization, folding changes nothing but F32 rounding: the same perplexity to 1e-4
        assertEquals(unmerged, materialized, 1e-4 * unmerged);
        // RestAssured reads JSON decimals as float: the two perplexities arrive rounded to 6e-8 of themselves
        assertEquals(materialized / unmerged - 1,
                version.<Number>path("metrics.perplexity.relative_change").doubleValue(), 3e-7);
    }

    @Test
    void quantizedMaterializationRecordsTheServingRuleAndItsPerplexityChange() {
        String output = unique("folded-q8");
        String id = as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: materialize
                adapter: %s
                parameters: {quantization: q8_0}
                evaluation: {text: "data:,the cat sat on the mat and looked at the dog."}
                output:
                  model: %s
                """.formatted(second.ref(), output))
                .post("/v1/merges").then().statusCode(202).extract().path("id");
        awaitState(id, "succeeded");
        var version = registryGet("/v1/models/" + output + "/versions/1")
                .body("metrics.perplexity.serving", equalTo("attention=q8_0,mlp=q8_0,head=q8_0"))
                .body("recipe.request.parameters.quantization", equalTo("q8_0")).extract();
        double unmerged = version.<Number>path("metrics.perplexity.unmerged").doubleValue();
        double materialized = version.<Number>path("metrics.perplexity.materialized").doubleValue();
        assertTrue(Double.isFinite(unmerged) && Double.isFinite(materialized) && unmerged > 1 && materialized > 1,
                unmerged + " / " + materialized);
    }

    // ---- bad input: each a problem document, and no model reaches the registry ----

    @Test
    void anAdapterOfAnotherBaseIsRejected() {
        String output = unique("mixed");
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: linear
                adapters:
                  - adapter: %s
                  - adapter: %s
                parameters: {rank: 2}
                output: {model: %s}
                """.formatted(first.ref(), foreign.ref(), output))
                .post("/v1/merges").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("only adapters of one base combine"))
                .body("detail", containsString(otherBase))
                .body("errors[0].field", equalTo("adapters[1].adapter"));
        nothingRegistered(output);
    }

    @Test
    void aRankTheModulesCannotHaveOrThatCatCannotHonourIsRejected() {
        String output = unique("rank");
        as(Tokens.writer()).body("""
                {"merge_method": "ties", "adapters": [{"adapter": "%s"}, {"adapter": "%s"}],
                 "parameters": {"rank": 40, "density": 0.5}, "output": {"model": "%s"}}
                """.formatted(first.ref(), second.ref(), output))
                .post("/v1/merges").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("parameters.rank 40 exceeds"))
                .body("errors[0].field", equalTo("parameters.rank"));
        as(Tokens.writer()).body("""
                {"merge_method": "cat", "adapters": [{"adapter": "%s"}, {"adapter": "%s"}],
                 "parameters": {"rank": 2}, "output": {"model": "%s"}}
                """.formatted(first.ref(), second.ref(), output))
                .post("/v1/merges").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("sum of the adapters' ranks"));
        as(Tokens.writer()).body("""
                {"merge_method": "linear", "adapters": [{"adapter": "%s"}], "output": {"model": "%s"}}
                """.formatted(first.ref(), output))
                .post("/v1/merges").then().statusCode(400)
                .body("errors[0].field", equalTo("parameters.rank"));
        nothingRegistered(output);
    }

    @Test
    void anUnknownMethodForAdaptersListsTheValidOnes() {
        String output = unique("slerp");
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: slerp
                adapters:
                  - adapter: %s
                  - adapter: %s
                output: {model: %s}
                """.formatted(first.ref(), second.ref(), output))
                .post("/v1/merges").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("'slerp' does not combine adapters"))
                .body("detail", containsString("linear, cat, ties, dare_linear, dare_ties"))
                .body("errors[0].field", equalTo("merge_method"));
        nothingRegistered(output);
    }

    @Test
    void aFullModelWhereAnAdapterBelongsAndUnknownKeysAreRejected() {
        String output = unique("full");
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: materialize
                adapter: %s
                output: {model: %s}
                """.formatted(base, output))
                .post("/v1/merges").then().statusCode(422).contentType("application/problem+json")
                .body("detail", containsString("not a LoRA adapter"))
                .body("errors[0].field", equalTo("adapter"));
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: materialize
                adapter: %s
                parameters: {quantization: q3_k}
                output: {model: %s}
                """.formatted(first.ref(), output))
                .post("/v1/merges").then().statusCode(400)
                .body("errors[0].field", equalTo("parameters.quantization"));
        as(Tokens.writer()).contentType("application/yaml").body("""
                merge_method: ties
                adapters:
                  - adapter: %s
                    parameters: {weight: 1, t: 0.5}
                output: {model: %s}
                """.formatted(first.ref(), output))
                .post("/v1/merges").then().statusCode(400)
                .body("detail", containsString("adapters[0].parameters.t is not supported here (valid: weight)"));
        nothingRegistered(output);
    }

    // ---- helpers ----

    private static String model(String exactRef) {
        return exactRef.substring(0, exactRef.lastIndexOf(':'));
    }

    private static void nothingRegistered(String model) {
        given().auth().oauth2(Tokens.reader()).get(registry() + "/v1/models/{m}", model).then().statusCode(404);
    }

    private static double[][] sum(double a, double[][] x, double b, double[][] y) {
        double[][] out = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[0].length; j++) {
                out[i][j] = a * x[i][j] + b * y[i][j];
            }
        }
        return out;
    }

    private static double frobenius(double[][] x) {
        double s = 0;
        for (double[] row : x) {
            for (double v : row) {
                s += v * v;
            }
        }
        return Math.sqrt(s);
    }

    private static void assertClose(double[][] expected, double[][] actual, double tolerance, String what) {
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[0].length; j++) {
                assertEquals(expected[i][j], actual[i][j], tolerance, what + "[" + i + "][" + j + "]");
            }
        }
    }

    /** Registers a PEFT adapter of {@code baseRef} with seeded factors as the next version of {@code model}. */
    private static Adapter registerAdapter(String model, String baseRef, int r, double alpha, List<String> modules,
                                           long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, Map.Entry<long[], float[]>> tensors = new LinkedHashMap<>();
        Map<String, float[][]> factors = new LinkedHashMap<>();
        for (String module : modules) {
            int[] shape = SHAPES.get(module);
            float[] a = new float[r * shape[1]];
            float[] b = new float[shape[0] * r];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextDouble(-0.5, 0.5);
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) random.nextDouble(-0.5, 0.5);
            }
            tensors.put("base_model.model." + module + ".lora_A.weight",
                    new AbstractMap.SimpleEntry<>(new long[] {r, shape[1]}, a));
            tensors.put("base_model.model." + module + ".lora_B.weight",
                    new AbstractMap.SimpleEntry<>(new long[] {shape[0], r}, b));
            factors.put(module, new float[][] {a, b});
        }
        Path dir = Files.createTempDirectory("adapter");
        TinyLlama.write(dir.resolve("adapter_model.safetensors"), tensors);
        Files.writeString(dir.resolve("adapter_config.json"), """
                {"peft_type": "LORA", "r": %d, "lora_alpha": %s, "target_modules": ["q_proj", "v_proj"]}
                """.formatted(r, alpha));
        given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON)
                .body(Map.of("name", model, "description", "test adapters")).post(registry() + "/v1/models");
        List<Map<String, Object>> manifest = new ArrayList<>();
        for (String file : List.of("adapter_config.json", "adapter_model.safetensors")) {
            Path p = dir.resolve(file);
            manifest.add(Map.of("path", file, "sha256", InputCache.sha256(p), "size", Files.size(p),
                    "mediaType", file.endsWith(".json") ? "application/json" : "application/octet-stream"));
        }
        int number = given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON)
                .body(Map.of("operation", "finetune", "parents", List.of(Map.of("ref", baseRef, "role", "adapter-of")),
                        "recipe", Map.of("test", "adapter"), "manifest", manifest))
                .post(registry() + "/v1/models/{m}/versions", model).then().statusCode(201)
                .extract().path("number");
        for (Map<String, Object> entry : manifest) {
            given().auth().oauth2(Tokens.writer()).contentType("application/octet-stream")
                    .header("X-Emend-Sha256", entry.get("sha256")).body(dir.resolve((String) entry.get("path")).toFile())
                    .put(registry() + "/v1/models/{m}/versions/{n}/artifacts/" + entry.get("path"), model, number)
                    .then().statusCode(201);
        }
        given().auth().oauth2(Tokens.writer()).contentType(ContentType.JSON).body(Map.of("state", "ready"))
                .post(registry() + "/v1/models/{m}/versions/{n}/state", model, number).then().statusCode(200);
        return new Adapter(model + ":" + number, alpha / r, factors);
    }

    /** Reads a registered adapter's factors back with the test's own safetensors reader. */
    private static Adapter readAdapter(String model, int number) throws IOException {
        var config = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                artifact(model, number, "adapter_config.json"));
        Map<String, float[]> tensors = TinyLlama.tensors(artifact(model, number, "adapter_model.safetensors"));
        Map<String, float[][]> factors = new LinkedHashMap<>();
        for (String module : SHAPES.keySet()) {
            float[] a = tensors.get("base_model.model." + module + ".lora_A.weight");
            if (a != null) {
                factors.put(module, new float[][] {a, tensors.get("base_model.model." + module + ".lora_B.weight")});
            }
        }
        int r = config.path("r").asInt();
        double scale = config.path("use_rslora").asBoolean(false) ? config.path("lora_alpha").asDouble() / Math.sqrt(r)
                : config.path("lora_alpha").asDouble() / r;
        return new Adapter(model + ":" + number, scale, factors);
    }
}
