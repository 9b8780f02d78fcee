package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

/**
 * A change to one weight that the forward adds on the fly, leaving the stored weight untouched: a LoRA adapter, a
 * rank-k knowledge edit or a dense task vector. The arrays may require gradients; the forward differentiates through
 * them. They belong to the caller, who closes them.
 *
 * <p>Orientation: the graph stores a projection as {@code [in, out]} and computes {@code y = x · W} (Hugging Face
 * {@code Linear} stores {@code [out, in]}; GPT-2's Conv1D already stores {@code [in, out]}). Deltas use the graph's
 * orientation, so a PEFT adapter maps as {@code a = lora_A.weightᵀ}, {@code b = lora_B.weightᵀ}.
 */
public sealed interface WeightDelta permits WeightDelta.LowRank, WeightDelta.Dense {

    /**
     * {@code y += (dropout(x) · a) · b · scale} on a projection; never forms {@code a · b}.
     *
     * @param a       [in, rank]
     * @param b       [rank, out]
     * @param scale   e.g. LoRA's alpha / rank
     * @param dropout probability of zeroing each input entry on this delta's path only (LoRA dropout, as PEFT's
     *                {@code lora_dropout}: survivors are scaled by 1/(1-p), the base projection sees x unchanged); 0
     *                for inference. Masks come from PyTorch's generator, so a caller that needs reproducible runs
     *                seeds it.
     */
    record LowRank(NDArray a, NDArray b, double scale, double dropout) implements WeightDelta {

        public LowRank {
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
            }
        }

        /** A delta without dropout: what inference, evaluation and edits use. */
        public LowRank(NDArray a, NDArray b, double scale) {
            this(a, b, scale, 0);
        }
    }

    /**
     * {@code W + d} for any weight: for a projection {@code y += x · d} (d is [in, out]); for an embedding, norm or bias
     * the sum is formed in the forward's scope.
     *
     * @param d same shape as the graph's stored weight ({@link Transformer#parameter})
     */
    record Dense(NDArray d) implements WeightDelta {
    }
}
