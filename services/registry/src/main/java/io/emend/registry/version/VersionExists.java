package io.emend.registry.version;

import io.emend.registry.problem.RegistryException;

/** A writer asked for a specific version number that is already taken (a retried or duplicated create). */
public final class VersionExists extends RegistryException.Conflict {
    public VersionExists(String model, int number, int next) {
        super("version-exists", "version " + number + " of model '" + model + "' "
                + (number < next ? "already exists" : "cannot be created yet") + "; the next version is " + next);
    }
}
