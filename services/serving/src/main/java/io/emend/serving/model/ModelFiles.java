package io.emend.serving.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A version's files on local disk, ready to load.
 *
 * @param dir         a Hugging Face directory (config.json, tokenizer.json, safetensors), a PEFT adapter directory, or
 *                    the directory of a GGUF file with the model's tokenizer.json beside it
 * @param weightsFile one safetensors file in {@code dir} to read instead of the default set, or a GGUF file
 */
public record ModelFiles(ModelVersion version, Path dir, Optional<String> weightsFile) {

    /** The weights are one GGUF file, loaded with the types it stores. */
    public boolean gguf() {
        return weightsFile.filter(f -> f.endsWith(io.emend.core.infer.Decoder.GGUF_SUFFIX)).isPresent();
    }
}
