package io.emend.core.model;

/**
 * GPT-2: learned positions, pre-LayerNorm, Conv1D weights ({@code x @ W + b}), {@code gelu_new}, head tied to {@code wte}.
 *
 * @param hiddenSize     {@code n_embd}
 * @param numLayers      {@code n_layer}
 * @param numHeads       {@code n_head}
 * @param vocabSize      vocabulary size
 * @param maxPositions   {@code n_positions}
 * @param layerNormEps   {@code layer_norm_epsilon}
 * @param intermediateSize MLP width ({@code n_inner}, defaults to 4 * n_embd)
 * @param bosTokenId     beginning-of-sequence id, -1 when absent
 * @param eosTokenId     end-of-sequence id, -1 when absent
 */
public record Gpt2Config(
        int hiddenSize,
        int numLayers,
        int numHeads,
        int vocabSize,
        int maxPositions,
        double layerNormEps,
        int intermediateSize,
        int bosTokenId,
        int eosTokenId) implements ModelConfig {

    @Override
    public String modelType() {
        return "gpt2";
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }
}
