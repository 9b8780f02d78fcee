package io.emend.editor.statistics;

import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Progress;
import io.emend.core.edit.alphaedit.NullSpaceProjectors;
import io.emend.editor.EditorConfig;
import io.emend.editor.database.Database;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryUnavailable;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * AlphaEdit's null-space projectors, computed once per base's key statistics, energy share and layer set, and reused
 * like the statistics they derive from: kept locally under their sha256, listed by every AlphaEdit version that used
 * them ({@link NullSpaceProjectors#FILE_NAME}), and fetched from the registry by digest when the local copy is gone.
 * They cost an eigen-decomposition per layer, which is why they are kept at all.
 */
@ApplicationScoped
public class NullSpaceStore {

    private static final Logger LOG = Logger.getLogger(NullSpaceStore.class);

    private final Database db;
    private final DerivedFiles files;

    NullSpaceStore(Database db, InputCache cache, EditorConfig config) {
        this.db = db;
        this.files = new DerivedFiles(config.storage().cacheDir().toAbsolutePath().resolve("null-space"), cache);
    }

    /**
     * Projectors and where their file is.
     *
     * @param computed whether this call computed them (false: reused)
     */
    public record Obtained(NullSpaceProjectors projectors, Path file, String sha256, boolean computed) {
    }

    /**
     * The projectors of the statistics stored as {@code statisticsSha256}, for {@code layers} at {@code energy}.
     *
     * @throws IllegalArgumentException when a layer's statistics leave no null space within {@code energy}
     * @throws java.util.concurrent.CancellationException when {@code progress} asks to stop
     */
    public Obtained obtain(String statisticsSha256, KeyStatistics statistics, double energy, List<Integer> layers,
                           Progress progress) throws IOException {
        String digest = digest(statisticsSha256, energy, layers);
        Optional<Obtained> known = reuse(digest, energy, layers);
        if (known.isPresent()) {
            return known.get();
        }
        NullSpaceProjectors projectors = NullSpaceProjectors.compute(statistics, energy, layers, progress);
        DerivedFiles.Kept kept = files.keep("null-space", projectors::write);
        db.update("DELETE FROM null_space WHERE digest = ?", digest);
        db.update("INSERT INTO null_space (digest, sha256, size, statistics_sha256, energy, layers, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)", digest, kept.sha256(), kept.size(), statisticsSha256, energy,
                layerList(layers), Instant.now());
        return new Obtained(projectors, kept.file(), kept.sha256(), true);
    }

    private Optional<Obtained> reuse(String digest, double energy, List<Integer> layers) {
        List<String> shas = db.query("SELECT sha256 FROM null_space WHERE digest = ?", r -> r.getString(1), digest);
        if (shas.isEmpty()) {
            return Optional.empty();
        }
        String sha = shas.getFirst();
        try {
            Path file = files.find(sha);
            NullSpaceProjectors projectors = NullSpaceProjectors.read(file);
            if (!projectors.covers(energy, layers)) {
                LOG.warnf("null-space file %s does not cover layers %s at %s; computing them again", sha, layers,
                        energy);
                return Optional.empty();
            }
            return Optional.of(new Obtained(projectors, file, sha, false));
        } catch (IOException | RegistryUnavailable e) {
            // not uploaded yet (the job that computed them failed before its upload) or unreadable: compute again
            LOG.infof("null-space projectors %s are recorded but unavailable (%s); computing them again", sha,
                    e.getMessage());
            return Optional.empty();
        }
    }

    /** sha256 over the statistics' digest, the energy share and the sorted layers. */
    static String digest(String statisticsSha256, double energy, List<Integer> layers) {
        String text = "emend.null_space.v1\nstatistics " + statisticsSha256 + "\nenergy " + energy + "\nlayers "
                + layerList(layers) + "\n";
        return StatisticsCorpus.sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String layerList(List<Integer> layers) {
        return layers.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
    }
}
