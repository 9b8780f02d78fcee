package io.emend.registry.database;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Turns the one user-facing switch, {@code emend.db.url} (env {@code EMEND_DB_URL}), into the Quarkus datasource
 * settings. Quarkus fixes a datasource's db-kind at build time, so the registry is built with two named datasources,
 * {@code postgresql} and {@code h2}, and exactly one of them is activated here at startup: PostgreSQL for a
 * {@code jdbc:postgresql:} URL, H2 for a {@code jdbc:h2:} URL or when no URL is given (then an H2 file database under
 * {@code emend.db.h2-path}, default {@code .emend/db/registry}).
 *
 * <p>The ordinal sits above {@code application.properties} and below environment variables and system properties, so an
 * explicit {@code quarkus.datasource.*} setting still wins.
 */
public final class DatabaseSelection implements ConfigSourceFactory {

    static final String URL = "emend.db.url";
    static final String USERNAME = "emend.db.username";
    static final String PASSWORD = "emend.db.password";
    static final String H2_PATH = "emend.db.h2-path";
    static final String DEFAULT_H2_PATH = ".emend/db/registry";
    private static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        String url = valueOf(context, URL);
        if (url == null) {
            String path = valueOf(context, H2_PATH);
            url = h2FileUrl(path == null ? DEFAULT_H2_PATH : path);
        }
        String active;
        if (url.startsWith("jdbc:postgresql:")) {
            active = "postgresql";
        } else if (url.startsWith("jdbc:h2:")) {
            active = "h2";
        } else {
            throw new IllegalArgumentException(
                    URL + " must be a jdbc:postgresql: or jdbc:h2: URL, got '" + url + "'");
        }
        String inactive = active.equals("h2") ? "postgresql" : "h2";
        var settings = new java.util.HashMap<String, String>(Map.of(
                "quarkus.datasource." + active + ".active", "true",
                "quarkus.datasource." + active + ".jdbc.url", url,
                "quarkus.datasource." + inactive + ".active", "false"));
        String username = valueOf(context, USERNAME);
        if (username != null) {
            settings.put("quarkus.datasource." + active + ".username", username);
        }
        String password = valueOf(context, PASSWORD);
        if (password != null) {
            settings.put("quarkus.datasource." + active + ".password", password);
        }
        return List.of(new PropertiesConfigSource(settings, "emend database selection", ORDINAL));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }

    /**
     * A file database that several connections of this process share; the lock timeout is raised from H2's one second
     * because writers to one model queue on its row lock. {@code WRITE_DELAY=0} hands every commit to the file at once:
     * H2's default (500 ms) loses transactions that were already acknowledged when the process is killed.
     */
    static String h2FileUrl(String path) {
        return "jdbc:h2:file:" + java.nio.file.Path.of(path).toAbsolutePath() + ";LOCK_TIMEOUT=10000;WRITE_DELAY=0";
    }

    private static String valueOf(ConfigSourceContext context, String name) {
        ConfigValue value = context.getValue(name);
        if (value == null || value.getValue() == null || value.getValue().isBlank()) {
            return null;
        }
        return value.getValue().strip();
    }
}
