package io.emend.core.graph;

/** Places inside a decoder block where the forward can be observed or intervened on. */
public enum Site {
    /**
     * The input of block 0: the token embeddings (GPT-2: plus the position embeddings), [B, T, hidden]; probed with layer
     * 0. A causal trace corrupts the subject's rows here.
     */
    EMBEDDING,
    /** The residual stream after the block: Hugging Face's {@code hidden_states[layer + 1]}, [B, T, hidden]. */
    BLOCK_OUTPUT,
    /** The input of the MLP down-projection (Llama {@code mlp.down_proj}, GPT-2 {@code mlp.c_proj}), [B, T, mlp]. */
    MLP_DOWN_INPUT,
    /** The output of the MLP down-projection, before it joins the residual stream, [B, T, hidden]. */
    MLP_DOWN_OUTPUT
}
