package io.emend.registry.model;

import io.emend.registry.problem.RegistryException;

public final class ModelExists extends RegistryException.Conflict {
    public ModelExists(String name) {
        super("model-exists", "model '" + name + "' already exists");
    }
}
