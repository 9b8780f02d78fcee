package io.emend.core.format.gguf;

import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import io.emend.core.tokenizer.Vocabulary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Exports a Hugging Face Llama-architecture directory ({@code llama}, {@code mistral}) to a GGUF file that
 * llama.cpp and Ollama load: llama.cpp's tensor names, its q/k row order, its {@code llama.*} hyperparameter keys
 * and the {@code tokenizer.ggml.*} vocabulary.
 *
 * <p>Row order: HF applies RoPE in the rotate-half layout (dimension {@code i} pairs with {@code i + d/2}), while
 * llama.cpp's {@code llama} architecture rotates adjacent pairs ({@code 2i}, {@code 2i+1}). As llama.cpp's
 * {@code convert_hf_to_gguf.py} does, the rows of {@code q_proj} and {@code k_proj} are reordered per head so that
 * row {@code 2i + j} of the exported head is row {@code j * d/2 + i} of the HF head; attention scores are unchanged.
 *
 * <p>Types: 1-D tensors (norms) stay F32; matrices take the requested type; a matrix whose rows are not whole
 * quantization blocks falls back to F16, as llama.cpp's converter does.
 */
public final class GgufExport {

    /** {@code enum llama_ftype} values stored in {@code general.file_type}. */
    static final Map<GgmlType, Integer> FILE_TYPE = Map.of(GgmlType.F32, 0, GgmlType.F16, 1, GgmlType.Q4_0, 2,
            GgmlType.Q8_0, 7);
    /** ggml's quantization format version, written by llama.cpp for quantized files. */
    static final int QUANTIZATION_VERSION = 2;

    /** llama.cpp's {@code llama_token_type} / gguf-py {@code TokenType}. */
    enum TokenType {
        NORMAL(1), UNKNOWN(2), CONTROL(3), USER_DEFINED(4), UNUSED(5), BYTE(6);

        final int id;

        TokenType(int id) {
            this.id = id;
        }
    }

    private GgufExport() {
    }

    /** What was exported: the file and each tensor's name and type. */
    public record Result(Path file, List<GgufTensor> tensors) {
    }

    /**
     * Writes {@code target} from the model in {@code modelDir} (config.json, tokenizer.json, safetensors weights).
     *
     * @param weightType type for matrices: F32, F16, Q8_0 or Q4_0
     */
    public static Result llama(Path modelDir, Optional<String> weightsFile, Path target, GgmlType weightType)
            throws IOException {
        ModelConfig config = HfConfig.read(modelDir.resolve("config.json"));
        if (!(config instanceof LlamaConfig llama) || llama.modelType().equals("qwen2")) {
            throw new MalformedFileException(modelDir.resolve("config.json").toString(), "model_type '"
                    + config.modelType() + "' cannot be exported as GGUF architecture llama (llama and mistral can)");
        }
        if (llama.qkvBias()) {
            throw new MalformedFileException(modelDir.resolve("config.json").toString(),
                    "attention_bias: true is not supported by llama.cpp's llama architecture");
        }
        Path tokenizerFile = modelDir.resolve("tokenizer.json");
        Vocabulary vocabulary = Vocabulary.parse(tokenizerFile.toString(), Files.readString(tokenizerFile));
        try (TensorSource weights = ShardedCheckpoint.open(modelDir, weightsFile)) {
            Map<String, String> names = tensorNames(llama, weights);
            List<GgufWriter.Declaration> declarations = new ArrayList<>();
            for (Map.Entry<String, String> e : names.entrySet()) {
                TensorInfo t = weights.find(e.getKey()).orElseThrow();
                declarations.add(new GgufWriter.Declaration(e.getValue(), typeFor(t, weightType), t.shape()));
            }
            Map<String, GgufValue> metadata = metadata(llama, vocabulary, modelDir, weightType);
            try (GgufWriter writer = GgufWriter.create(target, metadata, declarations)) {
                for (Map.Entry<String, String> e : names.entrySet()) {
                    TensorInfo t = weights.find(e.getKey()).orElseThrow();
                    float[] values = weights.floats(e.getKey());
                    if (e.getKey().endsWith("self_attn.q_proj.weight")) {
                        values = interleaveRopeRows(values, t.shape(), llama.numHeads());
                    } else if (e.getKey().endsWith("self_attn.k_proj.weight")) {
                        values = interleaveRopeRows(values, t.shape(), llama.numKvHeads());
                    }
                    writer.write(e.getValue(), values);
                }
                writer.commit();
                return new Result(target, writer.tensors());
            }
        }
    }

    /** Per-block tensors: Hugging Face's name after {@code model.layers.<i>.}, llama.cpp's after {@code blk.<i>.}. */
    private static final Map<String, String> BLOCK_NAMES = orderedMap(
            "input_layernorm.weight", "attn_norm.weight",
            "self_attn.q_proj.weight", "attn_q.weight",
            "self_attn.k_proj.weight", "attn_k.weight",
            "self_attn.v_proj.weight", "attn_v.weight",
            "self_attn.o_proj.weight", "attn_output.weight",
            "post_attention_layernorm.weight", "ffn_norm.weight",
            "mlp.gate_proj.weight", "ffn_gate.weight",
            "mlp.down_proj.weight", "ffn_down.weight",
            "mlp.up_proj.weight", "ffn_up.weight");
    /** Tensors outside the blocks, Hugging Face's name to llama.cpp's. */
    private static final Map<String, String> MODEL_NAMES = orderedMap(
            "model.embed_tokens.weight", "token_embd.weight",
            "model.norm.weight", "output_norm.weight",
            "lm_head.weight", "output.weight");

    private static Map<String, String> orderedMap(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * llama.cpp's name for a Hugging Face Llama tensor name ({@code model.layers.3.mlp.up_proj.weight} is
     * {@code blk.3.ffn_up.weight}), the one table both export and {@code GgufFile} loading use.
     *
     * @throws IllegalArgumentException for a name outside the Llama layout
     */
    public static String ggufName(String hfName) {
        String top = MODEL_NAMES.get(hfName);
        if (top != null) {
            return top;
        }
        String prefix = "model.layers.";
        if (hfName.startsWith(prefix)) {
            int dot = hfName.indexOf('.', prefix.length());
            if (dot > prefix.length()) {
                String layer = hfName.substring(prefix.length(), dot);
                String block = BLOCK_NAMES.get(hfName.substring(dot + 1));
                if (block != null && layer.chars().allMatch(Character::isDigit)) {
                    return "blk." + layer + "." + block;
                }
            }
        }
        throw new IllegalArgumentException("'" + hfName + "' is not a Llama tensor name");
    }

    /** HF name to llama.cpp name, in llama.cpp's order; every expected tensor must be present with its shape. */
    static Map<String, String> tensorNames(LlamaConfig c, TensorSource weights) {
        Map<String, long[]> expected = new LinkedHashMap<>();
        Map<String, String> names = new LinkedHashMap<>();
        int qRows = c.numHeads() * c.headDim();
        int kvRows = c.numKvHeads() * c.headDim();
        put(expected, names, "model.embed_tokens.weight", c.vocabSize(), c.hiddenSize());
        for (int i = 0; i < c.numLayers(); i++) {
            String hf = "model.layers." + i + ".";
            put(expected, names, hf + "input_layernorm.weight", c.hiddenSize());
            put(expected, names, hf + "self_attn.q_proj.weight", qRows, c.hiddenSize());
            put(expected, names, hf + "self_attn.k_proj.weight", kvRows, c.hiddenSize());
            put(expected, names, hf + "self_attn.v_proj.weight", kvRows, c.hiddenSize());
            put(expected, names, hf + "self_attn.o_proj.weight", c.hiddenSize(), qRows);
            put(expected, names, hf + "post_attention_layernorm.weight", c.hiddenSize());
            put(expected, names, hf + "mlp.gate_proj.weight", c.intermediateSize(), c.hiddenSize());
            put(expected, names, hf + "mlp.down_proj.weight", c.hiddenSize(), c.intermediateSize());
            put(expected, names, hf + "mlp.up_proj.weight", c.intermediateSize(), c.hiddenSize());
        }
        put(expected, names, "model.norm.weight", c.hiddenSize());
        // A tied head is omitted: llama.cpp uses token_embd when output is absent.
        if (!c.tieWordEmbeddings()) {
            put(expected, names, "lm_head.weight", c.vocabSize(), c.hiddenSize());
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            TensorInfo t = weights.find(e.getKey()).orElseThrow(() -> new MalformedFileException("weights",
                    "tensor '" + e.getKey() + "' is missing"));
            if (!java.util.Arrays.equals(t.shape(), e.getValue())) {
                throw new MalformedFileException("weights", "tensor '" + e.getKey() + "' has shape "
                        + java.util.Arrays.toString(t.shape()) + ", config.json implies "
                        + java.util.Arrays.toString(e.getValue()));
            }
        }
        return names;
    }

    private static void put(Map<String, long[]> expected, Map<String, String> names, String hf, long... shape) {
        expected.put(hf, shape);
        names.put(hf, ggufName(hf));
    }

    private static GgmlType typeFor(TensorInfo t, GgmlType weightType) {
        if (t.rank() < 2) {
            return GgmlType.F32;
        }
        long row = t.shape()[t.rank() - 1];
        return weightType.fitsRow(row) ? weightType : GgmlType.F16;
    }

    /**
     * Reorders the rows of a q/k projection [heads * headDim, in] from HF's rotate-half layout to adjacent pairs:
     * within each head, new row {@code 2i + j} = old row {@code j * headDim/2 + i}.
     */
    public static float[] interleaveRopeRows(float[] weight, long[] shape, int heads) {
        int rows = Math.toIntExact(shape[0]);
        int cols = Math.toIntExact(shape[1]);
        int headDim = rows / heads;
        if (headDim * heads != rows || headDim % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows are not " + heads + " heads of an even size");
        }
        int half = headDim / 2;
        float[] out = new float[weight.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int to = h * headDim + 2 * i + j;
                    int from = h * headDim + j * half + i;
                    System.arraycopy(weight, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    private static Map<String, GgufValue> metadata(LlamaConfig c, Vocabulary vocabulary, Path modelDir,
                                                   GgmlType weightType) {
        Map<String, GgufValue> m = architecture(c,
                modelDir.toAbsolutePath().normalize().getFileName().toString(), weightType);
        tokenizer(m, c, vocabulary);
        return m;
    }

    /**
     * The general and {@code llama.*} keys llama.cpp needs to build a Llama model of this shape, for a file whose main
     * weight type is {@code weightType}; the caller adds the {@code tokenizer.ggml.*} keys.
     */
    public static Map<String, GgufValue> architecture(LlamaConfig c, String name, GgmlType weightType) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string("llama"));
        m.put("general.name", GgufValue.string(name));
        m.put("general.file_type", GgufValue.uint32(FILE_TYPE.get(weightType)));
        if (weightType == GgmlType.Q8_0 || weightType == GgmlType.Q4_0) {
            m.put("general.quantization_version", GgufValue.uint32(QUANTIZATION_VERSION));
        }
        m.put("llama.vocab_size", GgufValue.uint32(c.vocabSize()));
        m.put("llama.context_length", GgufValue.uint32(c.maxPositions()));
        m.put("llama.embedding_length", GgufValue.uint32(c.hiddenSize()));
        m.put("llama.block_count", GgufValue.uint32(c.numLayers()));
        m.put("llama.feed_forward_length", GgufValue.uint32(c.intermediateSize()));
        m.put("llama.rope.dimension_count", GgufValue.uint32(c.headDim()));
        m.put("llama.attention.head_count", GgufValue.uint32(c.numHeads()));
        m.put("llama.attention.head_count_kv", GgufValue.uint32(c.numKvHeads()));
        m.put("llama.attention.key_length", GgufValue.uint32(c.headDim()));
        m.put("llama.attention.value_length", GgufValue.uint32(c.headDim()));
        m.put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32((float) c.rmsNormEps()));
        m.put("llama.rope.freq_base", GgufValue.float32((float) c.ropeTheta()));
        return m;
    }

    /**
     * The vocabulary in llama.cpp's terms. A byte-fallback BPE (SentencePiece style) becomes tokenizer model
     * {@code llama}: llama.cpp's SPM tokenizer merges the adjacent pair whose joined piece has the highest score, so
     * each piece a merge produces scores minus that merge's rank (earlier merges first), which reproduces the BPE
     * merge order; other pieces score below every merge. A byte-level BPE becomes model {@code gpt2} with its merges.
     * The table is padded with unused {@code [PAD<id>]} tokens up to the config's vocab_size, as llama.cpp's converter does.
     */
    private static void tokenizer(Map<String, GgufValue> m, LlamaConfig c, Vocabulary v) {
        if (v.size() > c.vocabSize()) {
            throw new MalformedFileException("tokenizer.json", v.size() + " tokens exceed config vocab_size "
                    + c.vocabSize());
        }
        Map<String, Integer> mergeRank = new HashMap<>();
        for (int r = 0; r < v.merges().size(); r++) {
            mergeRank.putIfAbsent(v.merges().get(r).replace(" ", ""), r);
        }
        List<String> tokens = new ArrayList<>(c.vocabSize());
        List<Double> scores = new ArrayList<>(c.vocabSize());
        List<Long> types = new ArrayList<>(c.vocabSize());
        for (int id = 0; id < c.vocabSize(); id++) {
            String piece = id < v.size() ? v.pieces().get(id) : null;
            if (piece == null) {
                tokens.add("[PAD" + id + "]");
                scores.add(0.0 - (v.merges().size() + 1));
                types.add((long) TokenType.UNUSED.id);
                continue;
            }
            tokens.add(piece);
            Integer rank = mergeRank.get(piece);
            scores.add(rank != null ? 0.0 - rank : 0.0 - (v.merges().size() + 1));
            TokenType type;
            if (id == v.unkId()) {
                type = TokenType.UNKNOWN;
            } else if (v.specialIds().contains(id)) {
                type = TokenType.CONTROL;
            } else if (v.byteFallback() && piece.matches("<0x[0-9A-F]{2}>")) {
                type = TokenType.BYTE;
            } else {
                type = TokenType.NORMAL;
            }
            types.add((long) type.id);
        }
        if (v.byteFallback()) {
            m.put("tokenizer.ggml.model", GgufValue.string("llama"));
            m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
            m.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
            m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        } else {
            m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
            m.put("tokenizer.ggml.pre", GgufValue.string("default"));
            m.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
            m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
            m.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, v.merges()));
        }
        if (c.bosTokenId() >= 0) {
            m.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(c.bosTokenId()));
        }
        if (c.eosTokenId() >= 0) {
            m.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(c.eosTokenId()));
        }
        if (v.unkId() >= 0) {
            m.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(v.unkId()));
        }
        m.put("tokenizer.ggml.add_bos_token", GgufValue.bool(c.bosTokenId() >= 0));
        m.put("tokenizer.ggml.add_eos_token", GgufValue.bool(false));
    }
}
