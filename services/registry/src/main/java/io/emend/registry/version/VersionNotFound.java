package io.emend.registry.version;

import io.emend.registry.problem.RegistryException;

public final class VersionNotFound extends RegistryException.NotFound {
    public VersionNotFound(String model, int number) {
        super("version-not-found", "version " + number + " of model '" + model + "' does not exist");
    }
}
