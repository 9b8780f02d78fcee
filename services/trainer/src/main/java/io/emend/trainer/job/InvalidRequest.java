package io.emend.trainer.job;

/** A request (fine-tune or policy) that cannot be accepted: the field at fault and why. */
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
