package io.emend.registry.model;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** A model: a named line of versions. Archived models stay readable but take no new versions. */
public record Model(UUID id, String name, String description, String family, List<String> tags, boolean archived,
        Instant createdAt) {
}
