package io.emend.merger.database;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Activates one of the two datasources built into the merger from {@code emend.merger.db.url}, the way the registry
 * does it: Quarkus fixes a datasource's db-kind at build time, so both {@code postgresql} and {@code h2} are built in
 * and exactly one is switched on here. No URL means an H2 file database at {@code emend.merger.db.h2-path}, which is
 * what {@code ./emend up} runs. The ordinal sits above {@code application.properties} and below environment variables
 * and system properties, so an explicit {@code quarkus.datasource.*} setting still wins.
 */
public final class DatabaseSelection implements ConfigSourceFactory {

    static final String URL = "emend.merger.db.url";
    static final String USERNAME = "emend.merger.db.username";
    static final String PASSWORD = "emend.merger.db.password";
    static final String H2_PATH = "emend.merger.db.h2-path";
    static final String DEFAULT_H2_PATH = ".emend/db/merger";
    private static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        String url = valueOf(context, URL);
        if (url == null) {
            String path = valueOf(context, H2_PATH);
            // WRITE_DELAY=0: a killed process keeps every commit it acknowledged (H2 defaults to 500 ms of delay)
            url = "jdbc:h2:file:" + Path.of(path == null ? DEFAULT_H2_PATH : path).toAbsolutePath()
                    + ";LOCK_TIMEOUT=10000;WRITE_DELAY=0";
        }
        String active;
        if (url.startsWith("jdbc:postgresql:")) {
            active = "postgresql";
        } else if (url.startsWith("jdbc:h2:")) {
            active = "h2";
        } else {
            throw new IllegalArgumentException(URL + " must be a jdbc:postgresql: or jdbc:h2: URL, got '" + url + "'");
        }
        String inactive = active.equals("h2") ? "postgresql" : "h2";
        Map<String, String> settings = new HashMap<>(Map.of(
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
        return List.of(new PropertiesConfigSource(settings, "emend merger database selection", ORDINAL));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }

    private static String valueOf(ConfigSourceContext context, String name) {
        ConfigValue value = context.getValue(name);
        if (value == null || value.getValue() == null || value.getValue().isBlank()) {
            return null;
        }
        return value.getValue().strip();
    }
}
