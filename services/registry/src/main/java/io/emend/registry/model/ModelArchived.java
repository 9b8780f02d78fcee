package io.emend.registry.model;

import io.emend.registry.problem.RegistryException;

public final class ModelArchived extends RegistryException.Conflict {
    public ModelArchived(String name) {
        super("model-archived", "model '" + name + "' is archived and takes no new versions");
    }
}
