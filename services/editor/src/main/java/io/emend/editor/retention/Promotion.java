package io.emend.editor.retention;

import io.emend.editor.edit.EditSubmission;
import io.emend.editor.edit.InvalidSubmission;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.VersionDetails;
import jakarta.enterprise.context.ApplicationScoped;

/** Moves an alias to a version once its retention passes the gate. */
@ApplicationScoped
public class Promotion {

    private final RegistryClient registry;

    Promotion(RegistryClient registry) {
        this.registry = registry;
    }

    /**
     * What a promotion asks for.
     *
     * @param alias        the alias to move
     * @param minRetention the least share of inherited edits the version must keep
     */
    public record Request(String alias, Double minRetention) {
    }

    /** The alias moved, and the retention that allowed it. */
    public record Result(String model, String alias, int version, double retention) {
    }

    /**
     * @throws InvalidSubmission    for a missing or invalid alias or threshold
     * @throws RetentionGateFailed  when the version's retention is unmeasured or below the threshold
     */
    public Result promote(String model, int number, Request request) {
        if (request == null || request.alias() == null) {
            throw new InvalidSubmission("alias", "alias is required");
        }
        EditSubmission.requireName("alias", request.alias());
        if (request.minRetention() == null) {
            throw new InvalidSubmission("minRetention", "minRetention is required: a fraction between 0 and 1");
        }
        RetentionGate gate;
        try {
            gate = new RetentionGate(request.minRetention());
        } catch (IllegalArgumentException e) {
            throw new InvalidSubmission("minRetention", e.getMessage());
        }
        VersionDetails version = registry.version(model, number);
        gate.failure(version.exactRef(), version.metrics()).ifPresent(reason -> {
            throw new RetentionGateFailed(reason + "; " + model + "@" + request.alias() + " did not move");
        });
        registry.moveAlias(model, request.alias(), number);
        return new Result(model, request.alias(), number, version.metrics().path("retention").path("rate").asDouble());
    }
}
