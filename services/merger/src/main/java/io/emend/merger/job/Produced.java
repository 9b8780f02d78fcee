package io.emend.merger.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.emend.service.registry.NewVersion;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a job made, ready to be registered: the directory and its files, the new version's lineage, its figures, and
 * anything learned on the way that belongs in its recipe.
 *
 * @param metrics figures measured while making it; empty for none
 * @param learned what the job learned (AdaMerging's coefficients), recorded in the recipe; null for none
 */
public record Produced(Path directory, List<String> files, List<NewVersion.Parent> parents, Map<String, Object> metrics,
                       JsonNode learned) {

    public Produced {
        files = List.copyOf(files);
        parents = List.copyOf(parents);
        metrics = Map.copyOf(metrics);
    }

    /** Told how far a job has come; may throw to stop it (a cancelled job). */
    @FunctionalInterface
    public interface Progress {
        void report(double fraction, String message);
    }
}
