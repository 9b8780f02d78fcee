package io.emend.core.edit;

import java.util.concurrent.CancellationException;

/**
 * Where a long edit computation stands, and whether its caller wants it stopped. Work checks {@link #checkCancelled()}
 * between steps (a forward batch, an optimisation step), so a cancel takes effect within one step.
 */
public interface Progress {

    /** Ignores reports and never cancels. */
    Progress NONE = (phase, done, total) -> {
    };

    /**
     * @param phase what is running, e.g. {@code "key statistics"}, {@code "target 3/10"}
     * @param done  units done in this phase
     * @param total units in this phase
     */
    void report(String phase, long done, long total);

    /** Whether the caller asked to stop. */
    default boolean cancelled() {
        return false;
    }

    /** @throws CancellationException when {@link #cancelled()} */
    default void checkCancelled() {
        if (cancelled()) {
            throw new CancellationException("cancelled");
        }
    }
}
