package io.emend.core.graph;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;
import io.emend.core.tensor.TensorSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A decoder-only language model on DJL's PyTorch engine, differentiable end to end. Parameters live in one base
 * manager owned by the model (closed with it); every forward runs in a scope the caller passes and owns, and its
 * intermediates are freed before it returns.
 *
 * <p>Computation is F32. F16 and BF16 checkpoints are widened to F32 at load: "BF16 support" means BF16 weights
 * computed in F32, because this PyTorch build aborts on BF16 arrays and runs F16 matmul far slower than F32.
 *
 * <p>Weight names are Hugging Face's canonical ones ({@code model.layers.3.mlp.down_proj.weight},
 * {@code transformer.h.3.mlp.c_proj.weight}); projections are stored {@code [in, out]} (see {@link WeightDelta}).
 */
public sealed interface Transformer extends AutoCloseable permits LlamaTransformer, Gpt2Transformer {

    /** Loads the weights of {@code config}'s family from a checkpoint; shapes are checked against the config. */
    static Transformer load(ModelConfig config, TensorSource source) {
        WeightInit init = new WeightInit.FromSource(source);
        return switch (config) {
            case LlamaConfig c -> LlamaTransformer.create(c, init);
            case Gpt2Config c -> Gpt2Transformer.create(c, init, Gpt2Transformer.prefixIn(source));
        };
    }

    /**
     * Loads a Hugging Face model directory: {@code config.json} and the weights ({@code weightsFile} inside the
     * directory, else {@code model.safetensors}, else the shard index). The checkpoint is unmapped once loaded.
     *
     * @throws java.nio.file.NoSuchFileException for a missing directory, config or weights file
     * @throws io.emend.core.format.MalformedFileException for an invalid config or weights file, or an unknown
     *                                                     architecture
     * @throws IllegalArgumentException when the weights do not fit the config (a missing tensor, a wrong shape, NaN)
     */
    static Transformer open(Path modelDir, Optional<String> weightsFile) throws IOException {
        if (!Files.isDirectory(modelDir)) {
            throw new NoSuchFileException(modelDir.toString(), null, "not a model directory");
        }
        Path configFile = modelDir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new NoSuchFileException(configFile.toString(), null, "no config.json in the model directory");
        }
        ModelConfig config = HfConfig.read(configFile);
        try (TensorSource source = ShardedCheckpoint.open(modelDir, weightsFile)) {
            return load(config, source);
        }
    }

    /** A model of the config's shape with N(0, std²) matrices, unit gains and zero biases; for benchmarks and tests. */
    static Transformer random(ModelConfig config, long seed, double std) {
        Engine.getInstance().setRandomSeed((int) seed);
        WeightInit init = new WeightInit.Random(std);
        return switch (config) {
            case LlamaConfig c -> LlamaTransformer.create(c, init);
            case Gpt2Config c -> Gpt2Transformer.create(c, init, Gpt2Transformer.PREFIX);
        };
    }

    ModelConfig config();

    /**
     * Runs the model over a batch. Positions follow each row's mask (padding on either side) and continue from the
     * cache when one is given. Results belong to {@code scope}.
     *
     * @throws IllegalArgumentException for ids outside the vocabulary, positions past the model's context, a cache of
     *                                  another batch size, deltas that do not fit their weight, or unknown probes
     */
    ForwardResult forward(NDManager scope, TokenBatch batch, ForwardOptions options);

    /** Logits for every position of every row. */
    default NDArray logits(NDManager scope, TokenBatch batch) {
        return forward(scope, batch, ForwardOptions.defaults()).logits();
    }

    /** An empty cache for incremental decoding of {@code batch} rows, owned by a sub-manager of {@code scope}. */
    KvCache newCache(NDManager scope, int batch);

    /** Decoder blocks. */
    default int layers() {
        return config().numLayers();
    }

    /** The canonical names of every parameter, in load order. */
    List<String> parameterNames();

    /**
     * A stored parameter (projections {@code [in, out]}). Set {@code setRequiresGradient(true)} on it to get its
     * gradient after a backward; {@code getGradient()} then returns a new handle the caller closes.
     */
    NDArray parameter(String name);

    /** Whether the named parameter is a projection (so it accepts low-rank deltas). */
    boolean isProjection(String name);

    /** The name of layer {@code layer}'s MLP down-projection weight, the matrix ROME and MEMIT edit. */
    String mlpDownProjection(int layer);

    long parameterCount();

    /** Frees every parameter; forwards fail afterwards. */
    @Override
    void close();
}
