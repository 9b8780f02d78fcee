package io.emend.registry.version;

import io.emend.registry.artifact.ManifestEntry;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * One numbered version of a model: how it was made ({@code operation}, {@code recipe}, {@code parents}), how good it
 * is ({@code metrics}) and which files it consists of ({@code manifest}). Recipe and metrics are JSON text: the
 * registry stores them for people and jobs and never interprets them.
 */
public record Version(UUID id, UUID modelId, String model, int number, VersionState state, Operation operation,
        String recipe, String metrics, List<Parent> parents, List<ManifestEntry> manifest, Instant createdAt,
        String reason) {

    /** A parent edge as seen from the child. */
    public record Parent(UUID id, String model, int number, ParentRole role) {
    }

    /** {@code model:number}, the exact reference of this version. */
    public String ref() {
        return model + ":" + number;
    }
}
