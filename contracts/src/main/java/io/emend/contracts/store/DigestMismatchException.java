package io.emend.contracts.store;

import java.io.IOException;

/** The bytes that arrived do not hash to the digest the writer promised; nothing was stored. */
public final class DigestMismatchException extends IOException {

    private final String expected;
    private final String actual;

    public DigestMismatchException(String key, String expected, String actual) {
        super("sha256 of " + key + " is " + actual + ", expected " + expected);
        this.expected = expected;
        this.actual = actual;
    }

    public String expected() {
        return expected;
    }

    public String actual() {
        return actual;
    }
}
