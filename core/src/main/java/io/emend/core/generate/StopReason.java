package io.emend.core.generate;

/** Why a generation ended. */
public enum StopReason {
    /** {@link SamplingParams#maxTokens()} new tokens were produced. */
    MAX_TOKENS,
    /** The model produced its end-of-sequence token. */
    EOS,
    /** A stop sequence appeared in the text. */
    STOP_SEQUENCE,
    /** The model's context (max positions) is full. */
    CONTEXT
}
