package io.emend.merger.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * What {@code GET /v1/resolve/{ref}} answers, as far as the merger needs it.
 *
 * @param manifest the version's files, each stored under its sha256
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ResolvedVersion(String model, int number, String state, List<ManifestEntry> manifest) {

    public ResolvedVersion {
        manifest = manifest == null ? List.of() : List.copyOf(manifest);
    }

    /** {@code model:number}, the exact reference a merge pins its inputs to. */
    public String exactRef() {
        return model + ":" + number;
    }

    /** One file of a version. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ManifestEntry(String path, String sha256, long size, String mediaType) {
    }
}
