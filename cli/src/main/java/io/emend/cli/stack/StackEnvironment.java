package io.emend.cli.stack;

import io.emend.cli.Workspace;

import java.util.Map;
import java.util.Optional;

/**
 * The environment variables that swap an embedded default of {@code up} for an external system:
 * <ul>
 *   <li>{@code EMEND_DB_URL} ({@code jdbc:postgresql://host:5432/db}), {@code EMEND_DB_USERNAME}, {@code EMEND_DB_PASSWORD}:
 *       the registry uses that PostgreSQL instead of the H2 file database under {@code .emend/db};</li>
 *   <li>{@code EMEND_S3_BUCKET} (and optionally {@code EMEND_S3_ENDPOINT}, {@code EMEND_S3_REGION},
 *       {@code EMEND_S3_ACCESS_KEY}, {@code EMEND_S3_SECRET_KEY}): the object store is that S3 bucket instead of
 *       {@code .emend/objects}.</li>
 * </ul>
 * Secrets go to the service through its environment, never its command line, where any user could read them.
 */
public record StackEnvironment(Map<String, String> variables) {

    public StackEnvironment {
        variables = Map.copyOf(variables);
    }

    public static StackEnvironment ofProcess() {
        return new StackEnvironment(System.getenv());
    }

    private Optional<String> get(String name) {
        return Optional.ofNullable(variables.get(name)).map(String::strip).filter(v -> !v.isEmpty());
    }

    /** One line for the {@code up} table: which database the registry uses. */
    public String database(Workspace workspace) {
        return get("EMEND_DB_URL").map(url -> "PostgreSQL " + url).orElse("H2 " + workspace.database());
    }

    /** One line for the {@code up} table: where the bytes go. */
    public String objectStore(Workspace workspace) {
        return get("EMEND_S3_BUCKET").map(b -> "S3 bucket " + b + get("EMEND_S3_ENDPOINT").map(e -> " at " + e).orElse(""))
                .orElse("directory " + workspace.objects());
    }

    /**
     * The registry picks its datasource from {@code emend.db.url} ({@code EMEND_DB_URL}) at start-up, H2 when none is
     * given; the H2 file goes into the workspace.
     */
    void registryDatabase(Workspace workspace, Map<String, String> properties, Map<String, String> environment) {
        Optional<String> url = get("EMEND_DB_URL");
        if (url.isPresent()) {
            if (!url.get().startsWith("jdbc:postgresql:") && !url.get().startsWith("jdbc:h2:")) {
                throw new IllegalArgumentException("EMEND_DB_URL must be a PostgreSQL JDBC URL such as"
                        + " jdbc:postgresql://127.0.0.1:5432/emend, got '" + url.get() + "'");
            }
            // a JDBC URL may carry a password in its query, so it goes by environment too
            environment.put("EMEND_DB_URL", url.get());
            get("EMEND_DB_USERNAME").ifPresent(u -> environment.put("EMEND_DB_USERNAME", u));
            get("EMEND_DB_PASSWORD").ifPresent(p -> environment.put("EMEND_DB_PASSWORD", p));
        } else {
            properties.put("emend.db.h2-path", workspace.database().resolve("registry").toString());
        }
    }

    void registryObjectStore(Workspace workspace, Map<String, String> properties, Map<String, String> environment) {
        Optional<String> bucket = get("EMEND_S3_BUCKET");
        if (bucket.isPresent()) {
            properties.put("emend.registry.object-store.kind", "s3");
            properties.put("emend.registry.object-store.s3.bucket", bucket.get());
            get("EMEND_S3_ENDPOINT").ifPresent(e -> properties.put("emend.registry.object-store.s3.endpoint", e));
            get("EMEND_S3_REGION").ifPresent(r -> properties.put("emend.registry.object-store.s3.region", r));
            get("EMEND_S3_ACCESS_KEY").ifPresent(k -> environment.put("EMEND_REGISTRY_OBJECT_STORE_S3_ACCESS_KEY", k));
            get("EMEND_S3_SECRET_KEY").ifPresent(k -> environment.put("EMEND_REGISTRY_OBJECT_STORE_S3_SECRET_KEY", k));
        } else {
            properties.put("emend.registry.object-store.kind", "filesystem");
            properties.put("emend.registry.object-store.root", workspace.objects().toString());
        }
    }
}
