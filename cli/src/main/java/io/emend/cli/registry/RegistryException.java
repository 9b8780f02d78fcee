package io.emend.cli.registry;

/**
 * The registry refused a request or could not be reached. The message is one line meant for a person: the
 * problem's {@code detail} and, where it helps, what to do next.
 *
 * @see RegistryClient
 */
public final class RegistryException extends RuntimeException {

    private final int status;

    public RegistryException(int status, String message) {
        super(message);
        this.status = status;
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
    }

    /** The HTTP status, or 0 when no answer came. */
    public int status() {
        return status;
    }
}
