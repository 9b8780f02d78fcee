package io.emend.serving.batch;

/** A submitted generation; cancelling frees its batch slot before the next step (a client that went away). */
public interface GenerationHandle {

    void cancel();
}
