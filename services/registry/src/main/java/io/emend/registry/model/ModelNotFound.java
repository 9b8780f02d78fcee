package io.emend.registry.model;

import io.emend.registry.problem.RegistryException;

public final class ModelNotFound extends RegistryException.NotFound {
    public ModelNotFound(String name) {
        super("model-not-found", "model '" + name + "' does not exist");
    }
}
