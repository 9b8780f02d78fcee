package io.emend.serving.model;

/** The model exists but this replica could not load it (registry down, corrupt files, unsupported architecture): 503. */
public final class ModelUnavailable extends RuntimeException {

    public ModelUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
