package io.emend.registry.problem;

import java.util.List;

/**
 * A request the registry refuses for a reason the caller can understand. Each subclass stands for one kind of
 * refusal; {@link ProblemMapper} alone decides which HTTP status each kind gets. {@code type} is the last segment of
 * the problem type URI ({@code urn:emend:problem:<type>}), one per domain reason.
 */
public abstract class RegistryException extends RuntimeException {

    private final String type;
    private final List<FieldError> errors;

    protected RegistryException(String type, String detail) {
        this(type, detail, List.of());
    }

    protected RegistryException(String type, String detail, List<FieldError> errors) {
        super(detail);
        this.type = type;
        this.errors = List.copyOf(errors);
    }

    public String type() {
        return type;
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** One rejected field of a request: its JSON path or parameter name, and why. */
    public record FieldError(String field, String message) {
    }

    /** The named thing does not exist. */
    public static class NotFound extends RegistryException {
        public NotFound(String type, String detail) {
            super(type, detail);
        }
    }

    /** The request contradicts the current state: a duplicate, a race lost, an illegal transition. */
    public static class Conflict extends RegistryException {
        public Conflict(String type, String detail) {
            super(type, detail);
        }
    }

    /** The request itself is malformed: a bad name, a path that escapes, a missing field. */
    public static class InvalidInput extends RegistryException {
        public InvalidInput(String type, String detail) {
            super(type, detail);
        }

        public InvalidInput(String type, String detail, List<FieldError> errors) {
            super(type, detail, errors);
        }
    }

    /** The request is well formed but its content is wrong: bytes that do not match a digest, an invalid model. */
    public static class Unprocessable extends RegistryException {
        public Unprocessable(String type, String detail) {
            super(type, detail);
        }
    }

    /** The request body is larger than the registry accepts for it. */
    public static class TooLarge extends RegistryException {
        public TooLarge(String type, String detail) {
            super(type, detail);
        }
    }

    /** A byte range that lies outside the object. */
    public static class RangeNotSatisfiable extends RegistryException {
        private final long size;

        public RangeNotSatisfiable(String detail, long size) {
            super("range-not-satisfiable", detail);
            this.size = size;
        }

        public long size() {
            return size;
        }
    }
}
