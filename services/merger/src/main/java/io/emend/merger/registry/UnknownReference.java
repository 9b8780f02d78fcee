package io.emend.merger.registry;

/** A recipe names a model reference the registry does not know, or one that is not ready to be merged. */
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
