package io.emend.registry.alias;

import io.emend.registry.problem.RegistryException;

/** The alias no longer points where the caller believed, or cannot move where it asked. */
public final class AliasConflict extends RegistryException.Conflict {
    public AliasConflict(String type, String detail) {
        super(type, detail);
    }
}
