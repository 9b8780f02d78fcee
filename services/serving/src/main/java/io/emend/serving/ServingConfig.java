package io.emend.serving;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The serving service's settings. Two ways to get models: standalone (one local Hugging Face directory, no registry
 * and no broker, as {@code ./emend serve --model DIR} runs it), or through the registry (references resolved over its
 * REST API, files fetched by digest, alias moves followed on Kafka).
 */
@ConfigMapping(prefix = "emend.serving")
public interface ServingConfig {

    /**
     * {@code emend.serving.default-model}: the model loaded at start; readiness stays down until it is. A registry
     * reference ({@code name}, {@code name@alias}, {@code name:version}) or, standalone, the served name. Default:
     * none in registry mode (models load on first request), the standalone name in standalone mode.
     */
    Optional<String> defaultModel();

    /**
     * {@code emend.serving.default-model-retry}: the longest wait between attempts to load the default model after a
     * failure (the waits double from one second up to it), so a replica that starts before its model is imported or
     * while the registry is down becomes ready once the model can be had; default {@code 30s}.
     */
    @WithDefault("30s")
    java.time.Duration defaultModelRetry();

    /** {@code emend.serving.quant}: the engine's quantization rule ({@code f32}, {@code f16}, {@code q8_0}, {@code q4_0}, {@code mixed} or {@code attention=q8_0,mlp=q4_0,head=q8_0}); default {@code q8_0}. */
    @WithDefault("q8_0")
    String quant();

    /** {@code emend.serving.threads}: compute threads per loaded model; 0 (the default) means one per core. */
    @WithDefault("0")
    int threads();

    Batching batching();

    Standalone standalone();

    Registry registry();

    Aliases aliases();

    Deltas deltas();

    /** How requests share the decode loop. */
    interface Batching {

        /** {@code emend.serving.batching.max-batch}: sequences advanced together in one step; default 16. */
        @WithDefault("16")
        int maxBatch();

        /** {@code emend.serving.batching.queue-size}: requests waiting for a slot before new ones get 429; default 64. */
        @WithDefault("64")
        int queueSize();

        /** {@code emend.serving.batching.prefill-chunk}: prompt tokens one sequence feeds per step; default 64. */
        @WithDefault("64")
        int prefillChunk();

        /** {@code emend.serving.batching.default-max-tokens}: new tokens when a completion request names none (OpenAI's default is 16); default 16. */
        @WithDefault("16")
        int defaultMaxTokens();
    }

    /** One local model, no registry and no broker. */
    interface Standalone {

        /**
         * {@code emend.serving.standalone.model-dir}: a Hugging Face directory to serve, or a GGUF file (its tensors
         * used as stored, {@code quant} not applied; the model's {@code tokenizer.json} must lie beside it); when set,
         * the service runs standalone.
         */
        Optional<Path> modelDir();

        /** {@code emend.serving.standalone.name}: the model name clients use; default: the directory's (or GGUF file's) name. */
        Optional<String> name();

        /** {@code emend.serving.standalone.weights-file}: one safetensors (or GGUF) file in the directory to load instead of the default set. */
        Optional<String> weightsFile();

        /** {@code emend.serving.standalone.adapters.<name>}: PEFT adapter directories requests may name ({@code model+name}). */
        Map<String, Path> adapters();
    }

    /** Where versions come from in registry mode. */
    interface Registry {

        /** {@code emend.serving.registry.url}: the registry's base URL; default {@code http://localhost:8081}. */
        @WithDefault("http://localhost:8081")
        URI url();

        /** {@code emend.serving.registry.token}: a bearer token with the {@code reader} role for resolve and blob reads. */
        Optional<String> token();

        /** {@code emend.serving.registry.timeout}: per registry call (a blob download may take longer: this bounds its silence); default 30s. */
        @WithDefault("30s")
        Duration timeout();

        /** {@code emend.serving.registry.object-store-dir}: read blobs straight from this filesystem object store instead of over REST. */
        Optional<Path> objectStoreDir();

        /** {@code emend.serving.registry.cache-dir}: downloaded files by digest; default {@code .emend/serving-cache}. */
        @WithDefault(".emend/serving-cache")
        Path cacheDir();
    }

    /** Following alias moves on {@code emend.aliases}. */
    interface Aliases {

        /** {@code emend.serving.aliases.bootstrap-servers}: Kafka; unset (the default) means alias moves are not followed. */
        Optional<String> bootstrapServers();

        /**
         * {@code emend.serving.aliases.group-id}: the consumer group; default a fresh {@code emend-serving-<random>} per
         * process, so that every replica sees every move.
         */
        Optional<String> groupId();
    }

    /** Deltas over a loaded base: LoRA adapters and edit versions (their factors, not their materialized weights). */
    interface Deltas {

        /**
         * {@code emend.serving.deltas.idle-unload}: a per-request delta that no request has named for this long is
         * unloaded (the next request naming it loads it again); default {@code 10m}.
         */
        @WithDefault("10m")
        Duration idleUnload();

        /**
         * {@code emend.serving.deltas.edits-over-loaded-base}: when a served alias moves to (or a reference resolves
         * to) an edit version whose edit base this replica already has loaded, serve it as that base plus the edit's
         * factors instead of loading the materialized weights. Default {@code false}: the materialized weights give
         * the same tokens on every replica, while base plus factors differs from them by the quantization of the
         * factors' product, and whether a replica happens to have the base loaded would decide which answer a client
         * gets. Turn it on for one replica, or when memory and swap time matter more than that.
         */
        @WithDefault("false")
        boolean editsOverLoadedBase();
    }
}
