package io.emend.core.graph;

/** Which positions the LM head is applied to; the head is the largest matmul of a small model, so skip it when unused. */
public enum LogitsScope {
    /** Every position: [B, T, vocab]. */
    ALL,
    /** The last real (mask 1) token of each row in this chunk: [B, vocab]. What generation needs. */
    LAST,
    /** None: only probes are wanted. */
    NONE
}
