package io.emend.registry.imports;

import io.emend.registry.problem.RegistryException;

/** A model directory the registry will not import: a bad config, tokenizer or safetensors file. */
public final class InvalidModel extends RegistryException.Unprocessable {
    public InvalidModel(String type, String detail) {
        super(type, detail + "; nothing was imported");
    }
}
