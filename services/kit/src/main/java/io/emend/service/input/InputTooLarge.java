package io.emend.service.input;

/** A file over the service's byte limit. */
public final class InputTooLarge extends InputRejected {

    public InputTooLarge(String field, String message) {
        super(field, message);
    }
}
