package io.emend.merger.auth;

/** The roles of a token's {@code groups} claim that the merger checks; each implies the ones below it. */
public final class Roles {

    /** Reading jobs and their events. */
    public static final String READER = "reader";
    /** Submitting and cancelling merges. */
    public static final String WRITER = "writer";
    /** Implies writer. */
    public static final String ADMIN = "admin";

    private Roles() {
    }
}
