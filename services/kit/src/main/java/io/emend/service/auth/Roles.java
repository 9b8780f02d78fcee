package io.emend.service.auth;

/** The roles of a token's {@code groups} claim that Emend's services check; each implies the ones below it. */
public final class Roles {

    /** Reading jobs, policies and their events. */
    public static final String READER = "reader";
    /** Submitting, pausing and cancelling jobs; writing policies. */
    public static final String WRITER = "writer";
    /** Implies writer. */
    public static final String ADMIN = "admin";

    private Roles() {
    }
}
