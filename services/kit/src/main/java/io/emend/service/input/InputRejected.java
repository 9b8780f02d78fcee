package io.emend.service.input;

/** A file a request names that cannot be used; each service's mapper or job runner decides what it answers. */
public abstract sealed class InputRejected extends RuntimeException permits InputNotFound, InputTooLarge {

    private final String field;

    InputRejected(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The request field that named the file. */
    public String field() {
        return field;
    }
}
