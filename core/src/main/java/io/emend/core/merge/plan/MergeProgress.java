package io.emend.core.merge.plan;

/** Told after each output tensor is written. */
@FunctionalInterface
public interface MergeProgress {

    void tensorDone(int done, int total, String tensorName);

    MergeProgress NONE = (done, total, name) -> {
    };
}
