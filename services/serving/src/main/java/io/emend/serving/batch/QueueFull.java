package io.emend.serving.batch;

/** Every batch slot is taken and the waiting queue is full: the client should retry later (429). */
public final class QueueFull extends RuntimeException {

    public QueueFull(String message) {
        super(message);
    }
}
