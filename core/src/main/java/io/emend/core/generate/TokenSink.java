package io.emend.core.generate;

/** Receives a generation as it happens: once per new token, with the text that became final with it. */
@FunctionalInterface
public interface TokenSink {

    /**
     * @param token the new token id, or -1 for a last call carrying text held back until the end
     * @param text  text that is now final; empty while a multi-byte character or a possible stop sequence is pending
     */
    void accept(int token, String text);

    TokenSink IGNORE = (token, text) -> { };
}
