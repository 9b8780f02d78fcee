package io.emend.service.database;

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
 * Activates one of the two datasources built into a service from {@code emend.<service>.db.url}, the way the registry
 * does it: Quarkus fixes a datasource's db-kind at build time, so both {@code postgresql} and {@code h2} are built in
 * and exactly one is switched on here. No URL means an H2 file database at {@code emend.<service>.db.h2-path}
 * (default {@code .emend/db/<service>}), which is what {@code ./emend up} runs. The ordinal sits above
 * {@code application.properties} and below environment variables and system properties, so an explicit
 * {@code quarkus.datasource.*} setting still wins.
 *
 * <p>Each service registers a subclass naming itself in
 * {@code META-INF/services/io.smallrye.config.ConfigSourceFactory}; config source factories are created by the
 * service loader, so the subclass needs a public no-argument constructor.
 */
public abstract class DatabaseSelection implements ConfigSourceFactory {

    private static final int ORDINAL = 275;

    private final String service;
    private final String prefix;

    /** @param service the service's name, the middle of {@code emend.<service>.db.*} */
    protected DatabaseSelection(String service) {
        this(service, "emend." + service + ".db.");
    }

    /**
     * @param service the service's name, for the default H2 path {@code .emend/db/<service>}
     * @param prefix where its keys are, ending with a dot: the registry, the first service, reads {@code emend.db.*}
     */
    protected DatabaseSelection(String service, String prefix) {
        this.service = service;
        this.prefix = prefix;
    }

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        String url = valueOf(context, prefix + "url");
        if (url == null) {
            String path = valueOf(context, prefix + "h2-path");
            // WRITE_DELAY=0: a killed process keeps every commit it acknowledged (H2 defaults to 500 ms of delay)
            url = "jdbc:h2:file:" + Path.of(path == null ? ".emend/db/" + service : path).toAbsolutePath()
                    + ";LOCK_TIMEOUT=10000;WRITE_DELAY=0";
        }
        String active;
        if (url.startsWith("jdbc:postgresql:")) {
            active = "postgresql";
        } else if (url.startsWith("jdbc:h2:")) {
            active = "h2";
        } else {
            throw new IllegalArgumentException(prefix + "url must be a jdbc:postgresql: or jdbc:h2: URL, got '" + url
                    + "'");
        }
        String inactive = active.equals("h2") ? "postgresql" : "h2";
        Map<String, String> settings = new HashMap<>(Map.of(
                "quarkus.datasource." + active + ".active", "true",
                "quarkus.datasource." + active + ".jdbc.url", url,
                "quarkus.datasource." + inactive + ".active", "false"));
        String username = valueOf(context, prefix + "username");
        if (username != null) {
            settings.put("quarkus.datasource." + active + ".username", username);
        }
        String password = valueOf(context, prefix + "password");
        if (password != null) {
            settings.put("quarkus.datasource." + active + ".password", password);
        }
        return List.of(new PropertiesConfigSource(settings, "emend " + service + " database selection", ORDINAL));
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
