package io.emend.merger.adapter;

/**
 * Adapter inputs that exist but cannot be used together or as asked: a full model where an adapter was expected,
 * adapters of different bases, modules of different shapes, a target rank a module cannot have.
 */
public class IncompatibleAdapters extends RuntimeException {

    private final String field;

    public IncompatibleAdapters(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
