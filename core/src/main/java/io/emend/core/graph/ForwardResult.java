package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

import java.util.Map;

/**
 * What a forward produced, owned by the scope passed to it.
 *
 * @param logits   [B, T, vocab] or [B, vocab] per {@link LogitsScope}; null for {@link LogitsScope#NONE}
 * @param captured the requested probes' values
 */
public record ForwardResult(NDArray logits, Map<Probe, NDArray> captured) {

    public ForwardResult {
        captured = Map.copyOf(captured);
    }

    /** A captured value; fails naming the probe when it was not requested. */
    public NDArray captured(Probe probe) {
        NDArray a = captured.get(probe);
        if (a == null) {
            throw new IllegalArgumentException("probe " + probe + " was not captured; request it in ForwardOptions");
        }
        return a;
    }
}
