package io.emend.serving.batch;

/** Why a generation ended, in OpenAI's words ({@code finish_reason}). */
public enum FinishReason {
    /** The model produced its end-of-sequence token, or a stop sequence appeared. */
    STOP("stop"),
    /** {@code max_tokens} were produced, or the context is full. */
    LENGTH("length");

    private final String openAi;

    FinishReason(String openAi) {
        this.openAi = openAi;
    }

    public String openAi() {
        return openAi;
    }
}
