package io.emend.core.graph;

import ai.djl.ndarray.NDArray;

/**
 * Called at every {@link Probe} of a forward; returns the value the forward continues with. Returning {@code value}
 * observes; returning something else replaces it (ROME adds an optimised vector to the MLP output at the subject's
 * last token this way). A replacement must keep the shape and should be built activation-first
 * ({@code value.add(delta)}) so it lands in the forward's scope.
 */
@FunctionalInterface
public interface Intervention {

    NDArray at(Probe probe, NDArray value);
}
