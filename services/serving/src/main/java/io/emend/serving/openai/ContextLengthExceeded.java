package io.emend.serving.openai;

/** The prompt does not leave room for one new token in the model's context: 400 {@code context_length_exceeded}. */
public final class ContextLengthExceeded extends RuntimeException {

    private final String param;

    public ContextLengthExceeded(String param, int promptTokens, int context) {
        super("This model's maximum context length is " + context + " tokens. However, your " + param
                + " resulted in " + promptTokens + " tokens; it must leave room for at least one new token.");
        this.param = param;
    }

    public String param() {
        return param;
    }
}
