package io.emend.registry.alias;

import io.emend.registry.problem.RegistryException;

public final class AliasNotFound extends RegistryException.NotFound {
    public AliasNotFound(String model, String alias) {
        super("alias-not-found", "alias '" + model + "@" + alias + "' does not exist");
    }
}
