package io.emend.service.registry;

/** The registry could not be reached or answered something a service cannot act on (the service's fault or its). */
public class RegistryUnavailable extends RuntimeException {

    public RegistryUnavailable(String message) {
        super(message);
    }

    public RegistryUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
