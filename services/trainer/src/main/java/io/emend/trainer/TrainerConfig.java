package io.emend.trainer;

import io.emend.service.job.EventsConfig;
import io.emend.service.registry.RegistryConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything the trainer reads from configuration under {@code emend.trainer}. The README lists the same keys. */
@ConfigMapping(prefix = "emend.trainer")
public interface TrainerConfig {

    /** How the trainer reaches the registry: {@code emend.trainer.registry.*}, see the kit's {@link RegistryConfig}. */
    RegistryConfig registry();

    /** Job events on Kafka: {@code emend.trainer.events.*}, see the kit's {@link EventsConfig}. */
    EventsConfig events();

    /** Local directories. */
    StorageConfig storage();

    /** Where {@code training_file} keys (and {@code dataset.landed} files) are read. */
    ObjectStoreConfig objectStore();

    /** Limits on what a request may ask for. */
    LimitsConfig limits();

    /** The {@code dataset.landed} consumer. */
    DatasetsConfig datasets();

    /** Running fine-tunes as Kubernetes Jobs instead of in this process. */
    KubernetesConfig kubernetes();

    /** The job table's database; read at startup by {@link io.emend.trainer.database.TrainerDatabaseSelection}. */
    DatabaseConfig db();

    interface DatabaseConfig {
        /**
         * {@code emend.trainer.db.url} (env {@code EMEND_TRAINER_DB_URL}): a {@code jdbc:postgresql:} or
         * {@code jdbc:h2:} URL; default: none, an H2 file database at {@link #h2Path()}.
         */
        Optional<String> url();

        /** {@code emend.trainer.db.username}: default none. */
        Optional<String> username();

        /** {@code emend.trainer.db.password}: default none. */
        Optional<String> password();

        /** {@code emend.trainer.db.h2-path}: the H2 file used when no URL is given; default {@code .emend/db/trainer}. */
        @WithDefault(".emend/db/trainer")
        String h2Path();
    }

    interface StorageConfig {
        /**
         * {@code emend.trainer.storage.cache-dir}: model and data files by sha256, verified, shared by every job;
         * default {@code .emend/trainer/cache}.
         */
        @WithDefault(".emend/trainer/cache")
        Path cacheDir();

        /**
         * {@code emend.trainer.storage.work-dir}: one directory per job (its inputs, checkpoints and output), kept
         * while the job can still resume and deleted when it ends; default {@code .emend/trainer/work}.
         */
        @WithDefault(".emend/trainer/work")
        Path workDir();
    }

    interface ObjectStoreConfig {
        /**
         * {@code emend.trainer.object-store.root}: the filesystem object store that {@code training_file} keys and
         * {@code dataset.landed} files are read from (the registry's store under {@code ./emend up}); default
         * {@code .emend/objects}.
         */
        @WithDefault(".emend/objects")
        Path root();
    }

    interface LimitsConfig {
        /**
         * {@code emend.trainer.limits.max-dataset-bytes}: the largest training (or validation, replay, probe) file a
         * job accepts; default {@code 1073741824} (1 GiB).
         */
        @WithDefault("1073741824")
        long maxDatasetBytes();

        /** {@code emend.trainer.limits.max-steps}: the most optimizer steps one job may run; default {@code 100000}. */
        @WithDefault("100000")
        int maxSteps();
    }

    interface DatasetsConfig {
        /** {@code emend.trainer.datasets.enabled}: consume {@code emend.datasets}; default {@code true}. */
        @WithDefault("true")
        boolean enabled();

        /** {@code emend.trainer.datasets.group-id}: the Kafka consumer group; default {@code emend-trainer}. */
        @WithDefault("emend-trainer")
        String groupId();

        /** {@code emend.trainer.datasets.poll-timeout}: how long one poll waits for records; default {@code 500ms}. */
        @WithDefault("500ms")
        Duration pollTimeout();
    }

    interface KubernetesConfig {
        /**
         * {@code emend.trainer.kubernetes.enabled}: run each fine-tune as a Kubernetes Job (the image runs
         * {@code emend finetune}); default {@code false}, fine-tunes run in the trainer process.
         */
        @WithDefault("false")
        boolean enabled();

        /** {@code emend.trainer.kubernetes.namespace}: where Jobs are created; default {@code emend}. */
        @WithDefault("emend")
        String namespace();

        /** {@code emend.trainer.kubernetes.image}: the container image holding the {@code emend} command; default {@code emend/emend:latest}. */
        @WithDefault("emend/emend:latest")
        String image();

        /** {@code emend.trainer.kubernetes.gpus}: {@code nvidia.com/gpu} requested per Job (0 = none); default {@code 1}. */
        @WithDefault("1")
        int gpus();

        /** {@code emend.trainer.kubernetes.memory}: the container's memory request and limit; default {@code 16Gi}. */
        @WithDefault("16Gi")
        String memory();

        /** {@code emend.trainer.kubernetes.node-selector}: node labels a Job's pod must match, e.g. {@code .accelerator=nvidia-h100}; default none. */
        Map<String, String> nodeSelector();

        /**
         * {@code emend.trainer.kubernetes.tolerations}: taints the pod tolerates, each {@code key=value:Effect} or
         * {@code key:Effect} (e.g. {@code nvidia.com/gpu:NoSchedule}); default none.
         */
        Optional<List<String>> tolerations();

        /**
         * {@code emend.trainer.kubernetes.data-volume-claim}: a PersistentVolumeClaim mounted at {@code /data} in the
         * pod, holding the job's inputs (staged by the trainer under {@code work-dir}, which must be the same volume)
         * and receiving its output; default {@code emend-trainer-work}.
         */
        @WithDefault("emend-trainer-work")
        String dataVolumeClaim();

        /** {@code emend.trainer.kubernetes.poll-interval}: how often a Job's status is read; default {@code 5s}. */
        @WithDefault("5s")
        Duration pollInterval();
    }
}
