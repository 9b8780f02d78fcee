package io.emend.service.input;

/** No object under the key, or a blob the registry cannot give. */
public final class InputNotFound extends InputRejected {

    public InputNotFound(String field, String message) {
        super(field, message);
    }
}
