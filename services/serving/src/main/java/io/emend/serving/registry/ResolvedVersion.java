package io.emend.serving.registry;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** The registry's answer to {@code GET /v1/resolve/{ref}} (services/registry/API.md), the parts serving reads. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ResolvedVersion(String model, int number, String state, String operation, List<Entry> manifest,
        String alias) {

    /** One file of the version. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Entry(String path, String sha256, long size, String mediaType) {
    }
}
