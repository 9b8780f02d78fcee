package io.emend.service.registry;

/** A request names a model reference the registry does not know, or one that is not ready to be used. */
public class UnknownReference extends RuntimeException {

    private final String reference;

    public UnknownReference(String reference, String message) {
        super(message);
        this.reference = reference;
    }

    public String reference() {
        return reference;
    }
}
