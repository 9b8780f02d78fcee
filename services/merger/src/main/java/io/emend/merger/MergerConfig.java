package io.emend.merger;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Everything the merger reads from configuration under {@code emend.merger}. The README lists the same keys. */
@ConfigMapping(prefix = "emend.merger")
public interface MergerConfig {

    /** How the merger reaches the registry. */
    RegistryConfig registry();

    /** Local directories. */
    StorageConfig storage();

    /** Job events on Kafka. */
    EventsConfig events();

    /** The job table's database; read at startup by {@link io.emend.merger.database.DatabaseSelection}. */
    DatabaseConfig db();

    /** How jobs run. */
    JobsConfig jobs();

    interface JobsConfig {
        /**
         * {@code emend.merger.jobs.progress-interval}: least time between two progress writes (table row and
         * {@code job.progress} event) of a running merge; the last tensor is always reported; default {@code 200ms}.
         */
        @WithDefault("200ms")
        Duration progressInterval();
    }

    interface DatabaseConfig {
        /**
         * {@code emend.merger.db.url} (env {@code EMEND_MERGER_DB_URL}): a {@code jdbc:postgresql:} or {@code jdbc:h2:}
         * URL; default: none, an H2 file database at {@link #h2Path()}.
         */
        Optional<String> url();

        /** {@code emend.merger.db.username}: default none. */
        Optional<String> username();

        /** {@code emend.merger.db.password}: default none. */
        Optional<String> password();

        /** {@code emend.merger.db.h2-path}: the H2 file used when no URL is given; default {@code .emend/db/merger}. */
        @WithDefault(".emend/db/merger")
        String h2Path();
    }

    interface RegistryConfig {
        /** {@code emend.merger.registry.url}: the registry's base URL; default {@code http://localhost:8081}. */
        @WithDefault("http://localhost:8081")
        URI url();

        /**
         * {@code emend.merger.registry.token}: a fixed bearer token for every registry call (it needs {@code admin}
         * when a request names an alias, else {@code writer}); default: none, the merger signs its own tokens with
         * {@link #signingKey()}.
         */
        Optional<String> token();

        /**
         * {@code emend.merger.registry.signing-key}: PKCS#8 PEM private key the merger signs short-lived
         * {@code admin} tokens with (issuer {@code emend}, subject {@code merger}) when no token is set; default
         * {@code .emend/keys/private.pem}, the key {@code ./emend up} writes.
         */
        @WithDefault(".emend/keys/private.pem")
        Path signingKey();

        /** {@code emend.merger.registry.timeout}: longest wait for one registry call's answer; default {@code 60s}. */
        @WithDefault("60s")
        Duration timeout();
    }

    interface StorageConfig {
        /**
         * {@code emend.merger.storage.cache-dir}: input files by sha256, verified, shared by every job; default
         * {@code .emend/merger/cache}.
         */
        @WithDefault(".emend/merger/cache")
        Path cacheDir();

        /** {@code emend.merger.storage.work-dir}: one directory per running job, deleted after it; default {@code .emend/merger/work}. */
        @WithDefault(".emend/merger/work")
        Path workDir();
    }

    interface EventsConfig {
        /** {@code emend.merger.events.enabled}: publish job events to Kafka; default {@code true}. */
        @WithDefault("true")
        boolean enabled();

        /** {@code emend.merger.events.bootstrap-servers}: Kafka brokers; default {@code ${kafka.bootstrap.servers}}, else {@code localhost:9092}. */
        @WithDefault("${kafka.bootstrap.servers:localhost:9092}")
        String bootstrapServers();

        /** {@code emend.merger.events.send-timeout}: how long one publish may wait for the broker; default {@code 10s}. */
        @WithDefault("10s")
        Duration sendTimeout();
    }
}
