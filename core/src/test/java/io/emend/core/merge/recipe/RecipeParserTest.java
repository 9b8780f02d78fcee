package io.emend.core.merge.recipe;

import io.emend.core.merge.MergeCatalog;
import io.emend.core.merge.ParameterValue;
import io.emend.core.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecipeParserTest {

    private static final String TIES = """
            merge_method: ties
            base_model: ./base
            models:
              - model: ./base
              - model: ./math
                parameters:
                  weight: 0.5
                  density: [0.2, 0.8]
              - model: ./code
                parameters:
                  weight: 0.5
                  density:
                    - filter: mlp
                      value: 0.4
                    - value: 0.6
            parameters:
              normalize: true
              lambda: 1.2
            dtype: bfloat16
            tokenizer_source: base
            random_seed: 7
            """;

    private static MergeRecipe parse(String yaml) {
        return new RecipeParser(MergeCatalog.STANDARD).parse("recipe.yml", yaml, false);
    }

    private static RecipeException reject(String yaml) {
        return assertThrows(RecipeException.class, () -> parse(yaml));
    }

    @Test
    void readsAMergekitTiesRecipe() {
        MergeRecipe r = parse(TIES);
        assertEquals("ties", r.method().name());
        assertEquals(Optional.of("./base"), r.baseModel());
        assertEquals(1, r.slices().size());
        List<MergeRecipe.SliceSource> sources = r.slices().getFirst().sources();
        assertEquals(List.of("./base", "./math", "./code"), sources.stream().map(MergeRecipe.SliceSource::model).toList());
        assertEquals(new ParameterValue.Gradient(List.of(0.2, 0.8)), sources.get(1).parameters().get("density"));
        ParameterValue density = sources.get(2).parameters().get("density");
        assertEquals(0.4, density.at("model.layers.0.mlp.up_proj.weight", 0).getAsDouble());
        assertEquals(0.6, density.at("model.layers.0.self_attn.q_proj.weight", 0).getAsDouble());
        assertEquals(new ParameterValue.Scalar(1.0), r.parameters().get("normalize"));
        assertEquals(new ParameterValue.Scalar(1.2), r.parameters().get("lambda"));
        assertEquals(Optional.of(DType.BF16), r.dtype());
        assertEquals(7, r.seed());
    }

    @Test
    void theSameRecipeAsJsonParsesTheSame() {
        String json = """
                {"merge_method": "ties", "base_model": "./base",
                 "models": [{"model": "./base"},
                            {"model": "./math", "parameters": {"weight": 0.5, "density": [0.2, 0.8]}},
                            {"model": "./code", "parameters": {"weight": 0.5,
                               "density": [{"filter": "mlp", "value": 0.4}, {"value": 0.6}]}}],
                 "parameters": {"normalize": true, "lambda": 1.2},
                 "dtype": "bfloat16", "tokenizer_source": "base", "random_seed": 7}
                """;
        MergeRecipe fromJson = new RecipeParser(MergeCatalog.STANDARD).parse("recipe.json", json, true);
        MergeRecipe fromYaml = parse(TIES);
        assertEquals(fromYaml.slices(), fromJson.slices());
        assertEquals(fromYaml.parameters(), fromJson.parameters());
        assertEquals(fromYaml.dtype(), fromJson.dtype());
        assertEquals(fromYaml.seed(), fromJson.seed());
        RecipeException e = assertThrows(RecipeException.class, () -> new RecipeParser(MergeCatalog.STANDARD)
                .parse("recipe.json", "{\"merge_method\": \"linear\",\n \"models\": [{\"model\": \"a\"}],\n \"chat_template\": \"x\"}", true));
        assertEquals(3, e.line());
    }

    @Test
    void readsSlices() {
        MergeRecipe r = parse("""
                merge_method: slerp
                base_model: a
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 4]
                      - model: b
                        layer_range: [2, 6]
                parameters:
                  t: 0.5
                """);
        assertTrue(r.sliced());
        assertEquals(new MergeRecipe.LayerRange(2, 6), r.slices().getFirst().sources().get(1).layerRange().orElseThrow());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            top-level key          | merge_method: linear\\nmodels: [{model: a}]\\ntokenizer: {source: union} | 3 | unsupported key 'tokenizer' at the top level (supported: merge_method, base_model, models, slices, parameters, dtype, out_dtype, tokenizer_source, random_seed)
            models entry key       | merge_method: linear\\nmodels:\\n  - model: a\\n    lora: b                 | 4 | unsupported key 'lora' in a models entry (supported: model, parameters)
            slice key              | merge_method: linear\\nslices:\\n  - sources: [{model: a, layer_range: [0, 1]}]\\n    parameters: {weight: 1} | 4 | unsupported key 'parameters' in a slices entry (supported: sources)
            source key             | merge_method: linear\\nslices:\\n  - sources:\\n      - model: a\\n        layer_range: [0, 2]\\n        base: x | 6 | unsupported key 'base' in a sources entry (supported: model, layer_range, parameters)
            conditional key        | merge_method: slerp\\nbase_model: a\\nmodels: [{model: a}, {model: b}]\\nparameters:\\n  t:\\n    - filters: mlp\\n      value: 1 | 6 | unsupported key 'filters' in a conditional value of 't' (supported: filter, value)
            unknown method         | merge_method: passthrough\\nmodels: [{model: a}] | 1 | unknown merge method 'passthrough' (valid: linear, task_arithmetic, ties, dare_linear, dare_ties, slerp, adamerging)
            unknown parameter      | merge_method: ties\\nbase_model: a\\nmodels:\\n  - model: b\\n    parameters:\\n      weight: 1\\n      epsilon: 0.1 | 7 | unsupported parameter 'epsilon' for merge_method ties (valid: weight (per model, required), density (per model, default 1.0), lambda (global, default 1.0), normalize (global, default true))
            global in model        | merge_method: slerp\\nbase_model: a\\nmodels:\\n  - model: b\\n    parameters: {t: 0.5} | 5 | parameter 't' of slerp applies to the whole merge; set it in the top-level parameters
            string value           | merge_method: linear\\nmodels:\\n  - model: a\\n    parameters:\\n      weight: heavy | 5 | parameter 'weight' must be a number, not a string 'heavy'
            flag as number         | merge_method: linear\\nmodels: [{model: a}]\\nparameters:\\n  normalize: 1 | 4 | parameter 'normalize' must be true or false, not a number
            dtype                  | merge_method: linear\\nmodels: [{model: a}]\\ndtype: int8 | 3 | dtype 'int8' is not supported (valid: bfloat16, float16, float32)
            tokenizer source       | merge_method: linear\\nmodels: [{model: a}]\\ntokenizer_source: union | 3 | tokenizer_source 'union' is not supported (valid: base; the tokenizer is copied from base_model)
            missing base           | merge_method: ties\\nmodels: [{model: a, parameters: {weight: 1}}] | 1 | merge_method ties needs base_model
            missing weight         | merge_method: task_arithmetic\\nbase_model: a\\nmodels:\\n  - model: a\\n  - model: b | 5 | model 'b' needs parameter 'weight' for task_arithmetic (set it in its parameters or in the top-level parameters)
            models and slices      | merge_method: linear\\nmodels: [{model: a}]\\nslices: [] | 3 | give either models or slices, not both
            empty layer range      | merge_method: linear\\nslices:\\n  - sources:\\n      - model: a\\n        layer_range: [2, 2] | 5 | layer_range [2, 2] is empty; the end is exclusive and must exceed the start
            uneven slice           | merge_method: linear\\nslices:\\n  - sources:\\n      - model: a\\n        layer_range: [0, 2]\\n      - model: b\\n        layer_range: [0, 3] | 7 | layer_range 0..3 has 3 layers but the slice's first source has 2; every source of a slice must have the same number of layers
            duplicate key          | merge_method: linear\\nmodels: [{model: a}]\\nmerge_method: ties | 3 | key 'merge_method' appears twice (first on line 1)
            not a map              | - merge_method: linear | 1 | the recipe must be a map, not a list
            missing method         | models: [{model: a}] | 1 | the recipe needs 'merge_method'
            model not a string     | merge_method: linear\\nmodels:\\n  - model: [a, b] | 3 | 'model' must be a non-empty string, not a list
            seed                   | merge_method: linear\\nmodels: [{model: a}]\\nrandom_seed: 1.5 | 3 | random_seed must be an integer, not a number
            adamerging no text     | merge_method: adamerging\\nbase_model: a\\nmodels: [{model: b}] | 1 | merge_method adamerging needs parameter 'text' in the top-level parameters
            adamerging granularity | merge_method: adamerging\\nbase_model: a\\nmodels: [{model: b}]\\nparameters:\\n  text: t.txt\\n  granularity: tensor | 6 | parameter 'granularity' must be one of task, layer, not 'tensor'
            adamerging steps       | merge_method: adamerging\\nbase_model: a\\nmodels: [{model: b}]\\nparameters:\\n  text: t.txt\\n\\n  steps: 2.5 | 7 | parameter 'steps' must be a positive whole number, not '2.5'
            adamerging zero steps  | merge_method: adamerging\\nbase_model: a\\nmodels: [{model: b}]\\nparameters: {text: t.txt, sequences: 0} | 4 | parameter 'sequences' must be a positive whole number, not '0'
            adamerging lr gradient | merge_method: adamerging\\nbase_model: a\\nmodels: [{model: b}]\\nparameters:\\n  text: t.txt\\n  lr: [0.1, 0.01] | 6 | parameter 'lr' is one value for the whole merge; it cannot vary over layers or tensors (got a list)
            adamerging text number | merge_method: adamerging\\nbase_model: a\\nmodels: [{model: b}]\\nparameters:\\n  text: 7 | 5 | parameter 'text' must be a non-empty string, not a number
            adamerging weight list | merge_method: adamerging\\nbase_model: a\\nmodels:\\n  - model: b\\n    parameters: {weight: [0.1, 0.5]}\\nparameters: {text: t.txt} | 5 | parameter 'weight' is one value for the whole merge; it cannot vary over layers or tensors (got a list)
            """)
    void rejectsWithTheKeyOrValueAndItsLine(String what, String yaml, int line, String message) {
        RecipeException e = reject(yaml.replace("\\n", "\n"));
        assertEquals(message, e.detail(), what);
        assertEquals(line, e.line(), what);
        assertEquals("recipe.yml:" + line + ": " + message, e.getMessage());
    }

    @Test
    void readsAnAdaMergingRecipe() {
        MergeRecipe r = parse("""
                merge_method: adamerging
                base_model: ./base
                models:
                  - model: ./stories
                  - model: ./wiki
                    parameters: {weight: 0.5}
                parameters:
                  granularity: layer
                  steps: 20
                  lr: 0.02
                  text: ./unlabeled.txt
                """);
        assertEquals("adamerging", r.method().name());
        assertEquals(new ParameterValue.Text("./unlabeled.txt"), r.parameters().get("text"));
        assertEquals(new ParameterValue.Scalar(1), r.parameters().get("granularity"));
        assertEquals(new ParameterValue.Scalar(20), r.parameters().get("steps"));
        assertEquals(new ParameterValue.Scalar(0.5), r.slices().getFirst().sources().get(1).parameters().get("weight"));
        var settings = io.emend.core.merge.adamerging.AdaMergingSettings.of(r);
        assertEquals(new io.emend.core.merge.adamerging.AdaMergingSettings(
                io.emend.core.merge.adamerging.Granularity.LAYER, 20, 0.02, "./unlabeled.txt", 128, 4, 64, 1.0,
                io.emend.core.merge.AdaMerging.DEFAULT_PRIOR, 0, 1, io.emend.core.merge.AdaMerging.DEFAULT_HELD_OUT,
                io.emend.core.merge.AdaMerging.DEFAULT_EVAL_EVERY, io.emend.core.merge.AdaMerging.DEFAULT_PATIENCE,
                io.emend.core.merge.adamerging.AdaMergingSettings.HeldOutMeasure.NEXT_TOKEN_LOSS),
                settings);
    }

    @Test
    void malformedYamlIsReportedWithItsLine() {
        RecipeException e = reject("merge_method: linear\nmodels:\n  - model: a\n   bad: [\n");
        assertTrue(e.detail().startsWith("not valid YAML"), e.detail());
        assertTrue(e.line() >= 3, "line " + e.line());
    }
}
