package io.emend.service.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * What {@code GET /v1/resolve/{ref}} answers, as far as the job services need it.
 *
 * @param operation what made it: {@code import}, {@code finetune}, {@code edit}, {@code merge}, {@code quantize}
 * @param manifest  the version's files, each stored under its sha256
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ResolvedVersion(String model, int number, String state, String operation,
                              List<ManifestEntry> manifest) {

    public ResolvedVersion {
        manifest = manifest == null ? List.of() : List.copyOf(manifest);
    }

    /** {@code model:number}, the exact reference a job pins its inputs to. */
    public String exactRef() {
        return model + ":" + number;
    }

    /** The manifest entry at {@code path}, if the version has that file. */
    public java.util.Optional<ManifestEntry> file(String path) {
        return manifest.stream().filter(e -> e.path().equals(path)).findFirst();
    }

    /** One file of a version. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ManifestEntry(String path, String sha256, long size, String mediaType) {
    }
}
