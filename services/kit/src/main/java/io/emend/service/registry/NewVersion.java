package io.emend.service.registry;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /v1/models/{name}/versions}: a pending version with its lineage, the request that made it,
 * its figures and the files it will have.
 *
 * @param operation {@code finetune}, {@code edit}, {@code merge}, {@code quantize}
 * @param parents   each parent version ({@code name:N}) and what it is to the new one
 * @param recipe    the request that produced the version, as JSON-able values
 * @param metrics   figures measured while producing it; null for none
 * @param manifest  every file, by path, sha256, size and media type
 * @param number    the number the caller expects the version to get, so a retried create answers 409 instead of making
 *                  a second version; null to take the next one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NewVersion(String operation, List<Parent> parents, Object recipe, Map<String, Object> metrics,
                         List<ResolvedVersion.ManifestEntry> manifest, Integer number) {

    public NewVersion {
        parents = List.copyOf(parents);
        manifest = List.copyOf(manifest);
    }

    /**
     * One parent.
     *
     * @param ref  an exact reference, {@code name:N}
     * @param role {@code base}, {@code adapter-of}, {@code merged-from}, {@code edited-from} or {@code quantized-from}
     */
    public record Parent(String ref, String role) {
    }
}
