package io.emend.merger.job;

/** A merge request that cannot be accepted, for a reason outside the recipe itself (the {@code output} part). */
public class InvalidRequest extends RuntimeException {

    private final String field;

    public InvalidRequest(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
