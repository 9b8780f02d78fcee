package io.emend.registry.resolve;

import io.emend.registry.problem.RegistryException;

public final class NothingMatches extends RegistryException.NotFound {
    public NothingMatches(Reference reference, String why) {
        super("reference-not-found", "reference '" + reference + "' matches no version: " + why);
    }
}
