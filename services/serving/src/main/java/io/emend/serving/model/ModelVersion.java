package io.emend.serving.model;

import java.util.Optional;

/**
 * Which bytes a loaded model is: its name, its registry version number (absent for a standalone directory), and the
 * content digest loaded models are cached by.
 *
 * @param digest hex SHA-256 over the version's manifest (path and digest of every file), or over the files of a
 *               standalone directory
 */
public record ModelVersion(String model, Optional<Integer> number, String digest) {

    /** What responses carry as {@code system_fingerprint}: which bytes produced them. */
    public String fingerprint() {
        return "emend-" + digest.substring(0, 16);
    }

    @Override
    public String toString() {
        return number.map(n -> model + ":" + n).orElse(model) + " (" + digest.substring(0, 12) + ")";
    }
}
