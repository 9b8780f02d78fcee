package io.emend.registry.auth;

/**
 * The roles a token's {@code groups} claim may carry. Each implies the ones below it ({@link RoleHierarchy}), so an
 * endpoint names only the least role it needs.
 */
public final class Roles {

    /** Reads: GET of anything. */
    public static final String READER = "reader";
    /** Writes: models, versions, artifacts, imports. */
    public static final String WRITER = "writer";
    /** Promotion: alias moves and rollbacks. */
    public static final String ADMIN = "admin";

    private Roles() {
    }
}
