package io.emend.registry.artifact;

import java.util.List;

/** A manifest line on the wire. */
public record ManifestEntryResponse(String path, String sha256, long size, String mediaType, boolean present) {

    public static List<ManifestEntryResponse> of(List<ManifestEntry> entries) {
        return entries.stream()
                .map(e -> new ManifestEntryResponse(e.path(), e.sha256(), e.size(), e.mediaType(), e.present()))
                .toList();
    }
}
