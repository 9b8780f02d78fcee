package io.emend.core.merge.plan;

import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Tiny random Llama-shaped model directories, written with the real checkpoint writer (mergekit's test idea). */
final class TinyModels {

    static final int HIDDEN = 8;
    static final int KV = 4;
    static final int MLP = 12;
    static final int VOCAB = 16;

    private TinyModels() {
    }

    /** Tensor names and shapes of a model with {@code layers} layers, in HF's order. */
    static Map<String, long[]> shapes(int layers) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN});
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "input_layernorm.weight", new long[] {HIDDEN});
            s.put(p + "self_attn.q_proj.weight", new long[] {HIDDEN, HIDDEN});
            s.put(p + "self_attn.k_proj.weight", new long[] {KV, HIDDEN});
            s.put(p + "self_attn.v_proj.weight", new long[] {KV, HIDDEN});
            s.put(p + "self_attn.o_proj.weight", new long[] {HIDDEN, HIDDEN});
            s.put(p + "post_attention_layernorm.weight", new long[] {HIDDEN});
            s.put(p + "mlp.gate_proj.weight", new long[] {MLP, HIDDEN});
            s.put(p + "mlp.up_proj.weight", new long[] {MLP, HIDDEN});
            s.put(p + "mlp.down_proj.weight", new long[] {HIDDEN, MLP});
        }
        s.put("model.norm.weight", new long[] {HIDDEN});
        s.put("lm_head.weight", new long[] {VOCAB, HIDDEN});
        return s;
    }

    /** Random values for every tensor of a model, seeded. */
    static Map<String, float[]> random(int layers, long seed) {
        Random r = new Random(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(layers).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * 0.1);
            }
            values.put(e.getKey(), v);
        }
        return values;
    }

    /** Writes a model directory: config.json, a stand-in tokenizer.json, and the tensors in {@code dtype}. */
    static Path write(Path dir, Map<String, float[]> values, DType dtype, int layers) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                 "num_hidden_layers": %d, "num_attention_heads": 2, "num_key_value_heads": 1,
                 "intermediate_size": %d, "vocab_size": %d, "torch_dtype": "float32"}
                """.formatted(HIDDEN, layers, MLP, VOCAB));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}, \"from\": \""
                + dir.getFileName() + "\"}");
        Map<String, long[]> shapes = shapes(layers);
        List<TensorInfo> infos = new ArrayList<>();
        for (String name : values.keySet()) {
            infos.add(new TensorInfo(name, dtype, shapes.get(name)));
        }
        try (CheckpointWriter w = CheckpointWriter.create(dir, infos, Map.of("format", "pt"), Long.MAX_VALUE)) {
            for (Map.Entry<String, float[]> e : values.entrySet()) {
                w.write(e.getKey(), e.getValue());
            }
            w.commit();
        }
        return dir;
    }
}
