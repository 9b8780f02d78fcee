package io.emend.merger.text;

/** A text reference that names nothing: no such registry blob or object-store key. */
public class TextNotFound extends RuntimeException {

    private final String field;

    public TextNotFound(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
