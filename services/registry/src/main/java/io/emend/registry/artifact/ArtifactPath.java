package io.emend.registry.artifact;

import io.emend.registry.problem.RegistryException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The rule for a file's path inside a version: relative, slash-separated segments of letters, digits and
 * {@code . _ - + = @}, no empty, {@code .} or {@code ..} segment. Paths become parts of directories when a client
 * downloads a version, so nothing that could escape that directory gets in.
 */
public final class ArtifactPath {

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._+=@-]+");
    private static final int MAX_LENGTH = 1024;

    private ArtifactPath() {
    }

    public static String check(String field, String path) {
        String why = problemWith(path);
        if (why != null) {
            throw new InvalidArtifactPath(field, path, why);
        }
        return path;
    }

    static String problemWith(String path) {
        if (path == null || path.isEmpty()) {
            return "it is empty";
        }
        if (path.length() > MAX_LENGTH) {
            return "it is longer than " + MAX_LENGTH + " characters";
        }
        if (path.startsWith("/")) {
            return "it is absolute";
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "it has an empty, '.' or '..' segment";
            }
            if (!SEGMENT.matcher(segment).matches()) {
                return "segment '" + segment + "' has characters other than letters, digits and . _ - + = @";
            }
        }
        return null;
    }

    /** A path that could escape its version's directory or is otherwise unusable. */
    public static final class InvalidArtifactPath extends RegistryException.InvalidInput {
        InvalidArtifactPath(String field, String path, String why) {
            super("invalid-artifact-path", "artifact path '" + path + "' is not allowed: " + why,
                    List.of(new FieldError(field, why)));
        }
    }
}
