package io.emend.editor;

import io.emend.service.job.EventsConfig;
import io.emend.service.registry.RegistryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/** Everything the editor reads from configuration under {@code emend.editor}. The README lists the same keys. */
@ConfigMapping(prefix = "emend.editor")
public interface EditorConfig {

    /** How the editor reaches the registry: {@code emend.editor.registry.*}, see the kit's {@link RegistryConfig}. */
    RegistryConfig registry();

    /** Local directories. */
    StorageConfig storage();

    /**
     * Job events out ({@code emend.editor.events.*}, see the kit's {@link EventsConfig}) and version events in; the
     * same switch turns both off.
     */
    EditorEventsConfig events();

    /** The job and ledger tables' database; read at startup by {@link io.emend.editor.database.EditorDatabaseSelection}. */
    DatabaseConfig db();

    /** What one request may ask for. */
    LimitsConfig limits();

    /** Key statistics: the corpus they average over. */
    StatisticsConfig statistics();

    /** What is measured after an edit and on descendants. */
    EvaluationConfig evaluation();

    interface DatabaseConfig {
        /**
         * {@code emend.editor.db.url} (env {@code EMEND_EDITOR_DB_URL}): a {@code jdbc:postgresql:} or {@code jdbc:h2:}
         * URL; default: none, an H2 file database at {@link #h2Path()}.
         */
        Optional<String> url();

        /** {@code emend.editor.db.username}: default none. */
        Optional<String> username();

        /** {@code emend.editor.db.password}: default none. */
        Optional<String> password();

        /** {@code emend.editor.db.h2-path}: the H2 file used when no URL is given; default {@code .emend/db/editor}. */
        @WithDefault(".emend/db/editor")
        String h2Path();
    }

    interface StorageConfig {
        /**
         * {@code emend.editor.storage.cache-dir}: input files and key statistics by sha256, verified, shared by every
         * job; default {@code .emend/editor/cache}.
         */
        @WithDefault(".emend/editor/cache")
        Path cacheDir();

        /** {@code emend.editor.storage.work-dir}: one directory per running job, deleted after it; default {@code .emend/editor/work}. */
        @WithDefault(".emend/editor/work")
        Path workDir();
    }

    interface EditorEventsConfig extends EventsConfig {
        /**
         * {@code emend.editor.events.group-id}: the consumer group reading {@code emend.versions} for retention checks;
         * default {@code emend-editor} (replicas share the work).
         */
        @WithDefault("emend-editor")
        String groupId();
    }

    interface LimitsConfig {
        /**
         * {@code emend.editor.limits.max-edits}: the most requests one {@code POST /v1/edits} may carry; default
         * {@code 1000} (MEMIT's batched solve and the factor rank grow with it).
         */
        @WithDefault("1000")
        int maxEdits();
    }

    interface StatisticsConfig {
        /**
         * {@code emend.editor.statistics.corpus}: UTF-8 text the key statistics average over (documents separated by
         * blank lines; its last 20,000 characters are also the held-out text for perplexity); default: none, the
         * editor samples the corpus from the base model itself (see the README).
         */
        Optional<Path> corpus();

        /** {@code emend.editor.statistics.tokens}: tokens of the corpus the statistics average over; default {@code 20000}. */
        @WithDefault("20000")
        long tokens();
    }

    interface EvaluationConfig {
        /**
         * {@code emend.editor.evaluation.fluency-prompts}: prompts (each edit's prompt, then its rephrasing) continued by
         * 100 sampled tokens to measure fluency; default {@code 5}.
         */
        @WithDefault("5")
        int fluencyPrompts();

        /**
         * {@code emend.editor.evaluation.context-prefixes}: model-written prefixes each prompt is also edited behind
         * (ROME's recipe); default {@code 5}.
         */
        @WithDefault("5")
        int contextPrefixes();
    }
}
