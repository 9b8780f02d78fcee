package io.emend.merger;

import io.emend.service.job.EventsConfig;
import io.emend.service.registry.RegistryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** Everything the merger reads from configuration under {@code emend.merger}. The README lists the same keys. */
@ConfigMapping(prefix = "emend.merger")
public interface MergerConfig {

    /** How the merger reaches the registry: {@code emend.merger.registry.*}, see the kit's {@link RegistryConfig}. */
    RegistryConfig registry();

    /** Local directories. */
    StorageConfig storage();

    /** Job events on Kafka: {@code emend.merger.events.*}, see the kit's {@link EventsConfig}. */
    EventsConfig events();

    /** The job table's database; read at startup by {@link io.emend.merger.database.MergerDatabaseSelection}. */
    DatabaseConfig db();

    /** How jobs run. */
    JobsConfig jobs();

    /** Where texts named by object-store key are read. */
    ObjectStoreConfig objectStore();

    /** Bounds on what a request may make the merger read. */
    LimitsConfig limits();

    interface ObjectStoreConfig {
        /**
         * {@code emend.merger.object-store.root}: the filesystem object store that AdaMerging's {@code text} and a
         * materialization's {@code evaluation.text} keys are read from (the one the trainer's datasets land in);
         * default {@code .emend/objects}.
         */
        @WithDefault(".emend/objects")
        Path root();
    }

    interface LimitsConfig {
        /**
         * {@code emend.merger.limits.max-text-bytes}: largest text (AdaMerging's or an evaluation's) a request may
         * name; default {@code 67108864} (64 MiB).
         */
        @WithDefault("67108864")
        long maxTextBytes();
    }

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
}
