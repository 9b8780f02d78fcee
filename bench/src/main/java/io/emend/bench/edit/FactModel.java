package io.emend.bench.edit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.graph.Transformer;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.FineTuneMetrics;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The fact model: a Llama initialised at random (Hugging Face's init, N(0, 0.02) for matrices, ones for the norms)
 * with the tokenizer of {@code stories260k}, then fully fine-tuned by Emend's own trainer ({@link FineTuneJob},
 * method full) on a {@link FactCorpus} until it knows the facts.
 *
 * @param hidden       residual width
 * @param intermediate MLP width: the key dimension the edits write into, so it bounds how many independent facts a
 *                     layer can take
 * @param layers       blocks
 * @param heads        attention heads (head size hidden / heads, no grouping)
 */
public record FactModel(int hidden, int intermediate, int layers, int heads) {

    /** Writes the random model as a Hugging Face directory with the tokenizer of {@code tokenizerDir}. */
    public void initialize(Path tokenizerDir, Path dir, long seed) throws IOException {
        initialize(tokenizerDir, dir, seed, List.of());
    }

    /**
     * Writes the random model as a Hugging Face directory, its tokenizer that of {@code tokenizerDir} plus one token per
     * word of {@code words}, the embedding grown by as many rows. Each is an added token marked {@code normalized}: the
     * tokenizers library normalises its content as it does the text (SentencePiece's normaliser prepends "▁"), so it
     * matches "▁word" in the normalised text, the word with its leading space.
     */
    public void initialize(Path tokenizerDir, Path dir, long seed, List<String> words) throws IOException {
        Files.createDirectories(dir);
        Path config = tokenizerDir.resolve("tokenizer_config.json");
        if (Files.exists(config)) {
            Files.copy(config, dir.resolve("tokenizer_config.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode tokenizer = (ObjectNode) json.readTree(tokenizerDir.resolve("tokenizer.json").toFile());
        ObjectNode source = (ObjectNode) json.readTree(tokenizerDir.resolve("config.json").toFile());
        int vocab = source.get("vocab_size").asInt();
        com.fasterxml.jackson.databind.node.ArrayNode added = (com.fasterxml.jackson.databind.node.ArrayNode)
                tokenizer.get("added_tokens");
        for (String w : words) {
            ObjectNode t = added.addObject();
            t.put("id", vocab++);
            t.put("content", w);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", true);
            t.put("special", false);
        }
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(tokenizer));
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", heads);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", 256);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", true);
        c.put("bos_token_id", source.get("bos_token_id").asInt());
        c.put("eos_token_id", source.get("eos_token_id").asInt());
        c.put("torch_dtype", "float32");
        Files.writeString(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(c));

        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {vocab, hidden});
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {hidden});
            for (String m : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                shapes.put(p + "self_attn." + m + ".weight", new long[] {hidden, hidden});
            }
            shapes.put(p + "post_attention_layernorm.weight", new long[] {hidden});
            shapes.put(p + "mlp.gate_proj.weight", new long[] {intermediate, hidden});
            shapes.put(p + "mlp.up_proj.weight", new long[] {intermediate, hidden});
            shapes.put(p + "mlp.down_proj.weight", new long[] {hidden, intermediate});
        }
        shapes.put("model.norm.weight", new long[] {hidden});
        List<TensorInfo> infos = new ArrayList<>();
        shapes.forEach((name, shape) -> infos.add(new TensorInfo(name, DType.F32, shape)));
        SplittableRandom rng = new SplittableRandom(seed);
        try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve("model.safetensors"), infos, Map.of())) {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long n = 1;
                for (long s : e.getValue()) {
                    n *= s;
                }
                float[] v = new float[(int) n];
                boolean norm = e.getValue().length == 1;
                for (int i = 0; i < v.length; i++) {
                    v[i] = norm ? 1f : (float) (0.02 * rng.nextGaussian());
                }
                w.write(e.getKey(), v);
            }
            w.commit();
        }
    }

    /**
     * The training rows: {@code copies} passes over the sentences, each in its own seeded order, one JSONL {@code text}
     * example per sentence. The trainer packs examples into rows once; with a single order every sentence would always
     * follow the same one, and the model learns the corpus as a sequence (loss near 0, yet a fact asked on its own is
     * answered from the name alone a third of the time). Reshuffled passes leave the name as the only cue.
     */
    static Path writeCorpus(List<String> sentences, int copies, long seed, Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder b = new StringBuilder();
        java.util.Random rng = new java.util.Random(seed);
        for (int c = 0; c < copies; c++) {
            List<String> order = new ArrayList<>(sentences);
            java.util.Collections.shuffle(order, rng);
            for (String s : order) {
                b.append(json.writeValueAsString(Map.of("text", s))).append('\n');
            }
        }
        Files.writeString(file, b);
        return file;
    }

    /**
     * Fully fine-tunes the model in {@code base} on {@code epochs} reshuffled passes over {@code sentences} and writes
     * the result to {@code out}.
     *
     * @param report called with each step's report line
     */
    static FineTuneMetrics train(Path base, List<String> sentences, Path out, int epochs, double learningRate,
                                 int batch, long seed, java.util.function.Consumer<String> report) throws IOException {
        Path data = writeCorpus(sentences, epochs, seed, Files.createTempFile("facts", ".jsonl"));
        try (Transformer model = Transformer.open(base, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(base)) {
            FineTuneConfig config = new FineTuneConfig(Method.FULL, 8, 16, List.of(), learningRate, 0.0, 30, 0, 1,
                    batch, 1, 128, 1.0, seed, 0.0, 0, FineTuneConfig.Forgetting.none());
            TrainingData d = TrainingData.load(tokenizer, data, List.of(), config);
            try (FineTuneJob job = new FineTuneJob(model, d, config, List.of())) {
                int every = Math.max(1, job.totalSteps() / 50);
                FineTuneMetrics m = job.run(Optional.empty(), r -> {
                    if (r.step() % every == 0 || r.step() == r.totalSteps()) {
                        report.accept(String.format("  step %d/%d loss %.3f lr %.2e %.0f tok/s", r.step(),
                                r.totalSteps(), r.loss(), r.learningRate(),
                                r.stepsThisRun() * (double) r.tokens() / (r.elapsedNanos() / 1e9)));
                    }
                });
                job.writeMerged(base, out);
                return m;
            }
        } finally {
            Files.deleteIfExists(data);
        }
    }
}
