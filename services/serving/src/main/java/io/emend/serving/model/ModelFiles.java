package io.emend.serving.model;

import java.nio.file.Path;
import java.util.Optional;

/**
 * A version's files on local disk, ready to load.
 *
 * @param dir         a Hugging Face directory (config.json, tokenizer.json, safetensors) or a PEFT adapter directory
 * @param weightsFile one safetensors file in {@code dir} to read instead of the default set
 */
public record ModelFiles(ModelVersion version, Path dir, Optional<String> weightsFile) {
}
