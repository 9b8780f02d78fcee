package io.emend.core.merge.recipe;

import io.emend.core.merge.MergeException;

/** A recipe that cannot be accepted; the message starts with {@code file:line:} and names the key or value. */
public final class RecipeException extends MergeException {

    private final String source;
    private final int line;
    private final String detail;

    public RecipeException(String source, int line, String detail) {
        super(source + ":" + line + ": " + detail);
        this.source = source;
        this.line = line;
        this.detail = detail;
    }

    /** The recipe's name (its file name, or what the caller called the text). */
    public String source() {
        return source;
    }

    /** 1-based line of the offending key or value. */
    public int line() {
        return line;
    }

    /** The message without file and line. */
    public String detail() {
        return detail;
    }
}
