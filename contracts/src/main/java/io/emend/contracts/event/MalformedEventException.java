package io.emend.contracts.event;

/** Bytes that are not an Emend CloudEvent: not JSON, not CloudEvents 1.0, an unknown type, or invalid data. */
public final class MalformedEventException extends IllegalArgumentException {

    public MalformedEventException(String message, Throwable cause) {
        super(message, cause);
    }

    public MalformedEventException(String message) {
        super(message);
    }
}
