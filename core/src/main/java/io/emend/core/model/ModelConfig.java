package io.emend.core.model;

/**
 * The typed form of a Hugging Face {@code config.json}: one record per supported architecture family.
 * Parsing and validation of the JSON happen in {@code io.emend.core.format.hf.HfConfig}; nothing past it sees untyped JSON.
 */
public sealed interface ModelConfig permits LlamaConfig, Gpt2Config {

    /** The {@code model_type} as written in config.json (e.g. {@code llama}, {@code qwen2}, {@code gpt2}). */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    /** Longest sequence the positional scheme supports. */
    int maxPositions();

    /** Beginning-of-sequence token id, -1 when the config names none. */
    int bosTokenId();

    /** End-of-sequence token id, -1 when the config names none. */
    int eosTokenId();
}
