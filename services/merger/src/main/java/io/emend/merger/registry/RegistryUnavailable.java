package io.emend.merger.registry;

/** The registry could not be reached or answered something the merger cannot act on (the merger's fault or its). */
public class RegistryUnavailable extends RuntimeException {

    public RegistryUnavailable(String message) {
        super(message);
    }

    public RegistryUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
