package io.emend.merger.text;

/** A named text that cannot be used: malformed reference, missing, too large, or not text. */
public class TextRejected extends RuntimeException {

    private final String field;

    public TextRejected(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
