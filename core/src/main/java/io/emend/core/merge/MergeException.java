package io.emend.core.merge;

/**
 * A merge that cannot run as asked: an unknown method or parameter, inputs whose tensors are missing or differ in
 * shape or architecture, or non-finite input values. The message names the method, parameter, model or tensor.
 */
public class MergeException extends RuntimeException {

    public MergeException(String message) {
        super(message);
    }

    public MergeException(String message, Throwable cause) {
        super(message, cause);
    }
}
