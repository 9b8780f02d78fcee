package io.emend.serving.batch;

/**
 * Receives a generation from the decode loop thread. Implementations hand the data to the request's own thread and
 * return at once: the loop serves every sequence in the batch and must never wait on one client.
 */
public interface GenerationListener {

    void token(TokenOutput output);

    /**
     * @param promptTokens     tokens of the prompt (BOS included)
     * @param completionTokens tokens generated (an EOS that ended it is not counted)
     */
    void finished(FinishReason reason, int promptTokens, int completionTokens);

    /** The generation failed in the engine; nothing more follows. */
    void failed(RuntimeException error);
}
