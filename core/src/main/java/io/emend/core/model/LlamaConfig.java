package io.emend.core.model;

/**
 * Llama family ({@code llama}, {@code mistral}, {@code qwen2}): RMSNorm, rotate-half RoPE, GQA, SwiGLU.
 *
 * @param modelType          {@code llama}, {@code mistral} or {@code qwen2}
 * @param hiddenSize         model width ({@code hidden_size})
 * @param intermediateSize   MLP width ({@code intermediate_size})
 * @param numLayers          decoder blocks ({@code num_hidden_layers})
 * @param numHeads           query heads ({@code num_attention_heads})
 * @param numKvHeads         key/value heads ({@code num_key_value_heads}, defaults to numHeads)
 * @param headDim            per-head width ({@code head_dim}, defaults to hiddenSize / numHeads)
 * @param vocabSize          vocabulary size
 * @param maxPositions       {@code max_position_embeddings}
 * @param rmsNormEps         {@code rms_norm_eps}
 * @param ropeTheta          {@code rope_theta} (base of the RoPE frequencies)
 * @param tieWordEmbeddings  LM head shares the embedding matrix
 * @param qkvBias            q/k/v projections carry biases (qwen2, or {@code attention_bias})
 * @param bosTokenId         beginning-of-sequence id, -1 when absent
 * @param eosTokenId         end-of-sequence id, -1 when absent
 */
public record LlamaConfig(
        String modelType,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double rmsNormEps,
        double ropeTheta,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        int bosTokenId,
        int eosTokenId) implements ModelConfig {

    /**
     * Whether {@code o_proj} carries a bias too: Llama's {@code attention_bias} puts biases on all four attention
     * projections, while Qwen2 has them on q/k/v only and Mistral on none.
     */
    public boolean outputBias() {
        return qkvBias && modelType.equals("llama");
    }

    /** Query heads that share one KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
