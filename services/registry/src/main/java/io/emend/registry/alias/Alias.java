package io.emend.registry.alias;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A movable name for one version of a model ({@code support-bot@production}); serving follows it. {@code history}
 * lists every move, newest first.
 */
public record Alias(UUID id, String model, String name, int version, Instant updatedAt, List<Move> history) {

    /** One move of the alias: a {@code set} by a user or a {@code rollback} to the target before. */
    public record Move(int version, Integer previousVersion, String action, Instant movedAt, String movedBy,
            boolean undone) {
    }
}
