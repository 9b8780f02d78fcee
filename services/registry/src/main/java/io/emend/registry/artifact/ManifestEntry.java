package io.emend.registry.artifact;

/**
 * One file of a version: where it sits in the model directory, its content digest and size, and whether the blob has
 * arrived and been verified ({@code present}). The bytes live once per digest at {@link #blobKey(String)}.
 */
public record ManifestEntry(String path, String sha256, long size, String mediaType, boolean present) {

    public String blobKey() {
        return blobKey(sha256);
    }

    /** The object-store key of a content-addressed blob. */
    public static String blobKey(String sha256) {
        return "blobs/sha256/" + sha256;
    }
}
