package io.emend.service.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;

/**
 * What {@code GET /v1/models/{name}/versions/{number}} answers, as far as the job services need it: enough to walk a
 * version's lineage and read what produced it.
 *
 * @param recipe  the request that produced it (null for none)
 * @param metrics its figures (null for none)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record VersionDetails(String model, int number, String state, String operation, JsonNode recipe,
                             JsonNode metrics, List<ParentLink> parents, List<ResolvedVersion.ManifestEntry> manifest) {

    public VersionDetails {
        parents = parents == null ? List.of() : List.copyOf(parents);
        manifest = manifest == null ? List.of() : List.copyOf(manifest);
    }

    /** {@code model:number}. */
    public String exactRef() {
        return model + ":" + number;
    }

    /** The first parent with this role. */
    public Optional<ParentLink> parent(String role) {
        return parents.stream().filter(p -> role.equals(p.role())).findFirst();
    }

    /** A parent version and its role. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ParentLink(String model, int number, String role) {

        /** {@code model:number}. */
        public String exactRef() {
            return model + ":" + number;
        }
    }
}
