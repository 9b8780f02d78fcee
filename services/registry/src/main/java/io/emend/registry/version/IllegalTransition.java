package io.emend.registry.version;

import io.emend.registry.problem.RegistryException;

public final class IllegalTransition extends RegistryException.Conflict {
    public IllegalTransition(String ref, VersionState from, VersionState to, String why) {
        super("illegal-transition", ref + " cannot go from " + from.wire() + " to " + to.wire() + ": " + why);
    }
}
