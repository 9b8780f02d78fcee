package io.emend.contracts.store;

import java.io.IOException;

/** No object is stored under the key that was read. */
public final class ObjectNotFoundException extends IOException {

    private final String key;

    public ObjectNotFoundException(String key) {
        super("no object stored under " + key);
        this.key = key;
    }

    public String key() {
        return key;
    }
}
