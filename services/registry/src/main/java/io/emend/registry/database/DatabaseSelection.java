package io.emend.registry.database;

/**
 * Turns the one user-facing switch, {@code emend.db.url} (env {@code EMEND_DB_URL}), into the Quarkus datasource
 * settings, as the kit's {@link io.emend.service.database.DatabaseSelection} does for every service: PostgreSQL for a
 * {@code jdbc:postgresql:} URL (signing in as {@code emend.db.username} with {@code emend.db.password}), H2 for a
 * {@code jdbc:h2:} URL or when no URL is given (then an H2 file database under {@code emend.db.h2-path}, default
 * {@code .emend/db/registry}). The registry, the first service, keeps the short {@code emend.db.*} keys.
 */
public final class DatabaseSelection extends io.emend.service.database.DatabaseSelection {

    public DatabaseSelection() {
        super("registry", "emend.db.");
    }
}
