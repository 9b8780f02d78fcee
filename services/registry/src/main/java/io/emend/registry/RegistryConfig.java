package io.emend.registry;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Everything the registry reads from configuration under {@code emend.registry}. The README lists the same keys. */
@ConfigMapping(prefix = "emend.registry")
public interface RegistryConfig {

    /** Where artifact bytes live. */
    ObjectStoreConfig objectStore();

    /** The outbox relay that publishes events to Kafka. */
    RelayConfig relay();

    /** Limits on request bodies. */
    LimitsConfig limits();

    /** Imports of Hugging Face model directories. */
    ImportConfig imports();

    interface ObjectStoreConfig {
        /** {@code emend.registry.object-store.kind}: {@code filesystem} or {@code s3}; default {@code filesystem}. */
        @WithDefault("filesystem")
        Kind kind();

        /** {@code emend.registry.object-store.root}: directory of the filesystem store; default {@code .emend/objects}. */
        @WithDefault(".emend/objects")
        Path root();

        /** S3 settings, used when the kind is {@code s3}. */
        S3Config s3();

        enum Kind { FILESYSTEM, S3 }
    }

    interface S3Config {
        /**
         * {@code emend.registry.object-store.s3.endpoint}: URL of an S3-compatible server (MinIO, S3Proxy), which is
         * then addressed path-style with the static keys below; default: none, AWS S3 itself.
         */
        Optional<java.net.URI> endpoint();

        /** {@code emend.registry.object-store.s3.bucket}: the bucket; default {@code emend}. */
        @WithDefault("emend")
        String bucket();

        /** {@code emend.registry.object-store.s3.region}: the AWS region (AWS only); default {@code us-east-1}. */
        @WithDefault("us-east-1")
        String region();

        /** {@code emend.registry.object-store.s3.access-key}: access key id for an endpoint; no default. */
        Optional<String> accessKey();

        /** {@code emend.registry.object-store.s3.secret-key}: secret key for an endpoint; no default. */
        Optional<String> secretKey();
    }

    interface RelayConfig {
        /** {@code emend.registry.relay.enabled}: publish outbox rows to Kafka; default {@code true}. */
        @WithDefault("true")
        boolean enabled();

        /** {@code emend.registry.relay.bootstrap-servers}: Kafka brokers; default {@code localhost:9092}. */
        @WithDefault("localhost:9092")
        String bootstrapServers();

        /** {@code emend.registry.relay.poll-interval}: pause between outbox scans when idle; default {@code 200ms}. */
        @WithDefault("200ms")
        Duration pollInterval();

        /** {@code emend.registry.relay.batch-size}: most rows published per scan; default {@code 100}. */
        @WithDefault("100")
        int batchSize();

        /** {@code emend.registry.relay.max-backoff}: longest wait between retries while Kafka is down; default {@code 10s}. */
        @WithDefault("10s")
        Duration maxBackoff();

        /** {@code emend.registry.relay.send-timeout}: how long one publish may wait for the broker; default {@code 10s}. */
        @WithDefault("10s")
        Duration sendTimeout();
    }

    interface LimitsConfig {
        /** {@code emend.registry.limits.json-body}: largest JSON request body in bytes; default {@code 1048576} (1 MiB). */
        @WithDefault("1048576")
        long jsonBody();
    }

    interface ImportConfig {
        /**
         * {@code emend.registry.imports.local-roots}: directories under which {@code {"path": ...}} imports may read
         * (comma-separated); default: none set, any directory the registry process can read.
         */
        Optional<List<Path>> localRoots();
    }
}
