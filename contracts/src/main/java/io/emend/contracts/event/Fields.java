package io.emend.contracts.event;

/** The checks event records make in their constructors, so a malformed event fails where it is built or read. */
final class Fields {

    private Fields() {
    }

    static void requireText(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
    }

    static void requirePositive(String field, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(field + " must be 1 or more, was " + value);
        }
    }

    static void requireSha256(String field, String value) {
        if (value == null || !value.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(field + " must be 64 lowercase hex digits, was " + value);
        }
    }
}
