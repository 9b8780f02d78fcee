package io.emend.serving.model;

/** The request names a model (or adapter) this service cannot serve: OpenAI answers 404 {@code model_not_found}. */
public final class ModelNotFound extends RuntimeException {

    public ModelNotFound(String message) {
        super(message);
    }

    public ModelNotFound(String message, Throwable cause) {
        super(message, cause);
    }
}
