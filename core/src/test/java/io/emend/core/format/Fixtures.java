package io.emend.core.format;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared fixture models (../shared/fixtures), located through the {@code emend.fixtures} property the build sets. */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path root() {
        String dir = System.getProperty("emend.fixtures");
        if (dir == null) {
            throw new IllegalStateException("system property emend.fixtures is not set (the root pom sets it for surefire)");
        }
        Path root = Path.of(dir);
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("emend.fixtures = " + root + " is not a directory");
        }
        return root;
    }

    public static Path model(String name) {
        return root().resolve(name);
    }
}
