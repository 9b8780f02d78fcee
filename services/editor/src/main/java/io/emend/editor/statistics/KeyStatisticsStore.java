package io.emend.editor.statistics;

import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Progress;
import io.emend.core.edit.alphaedit.NullSpaceProjectors;
import io.emend.core.edit.alphaedit.WrittenKeys;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.editor.EditorConfig;
import io.emend.editor.database.Database;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.ResolvedVersion;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.jboss.logging.Logger;

/**
 * Key statistics, computed once per base and reused. They depend on the base's weights and the corpus only, so they
 * are keyed by a digest of the base's weight files (their sha256s, not the version's name: two versions with the same
 * weights share them) and the corpus identity. The file itself is content-addressed: kept locally under its sha256
 * and listed in every edit version made from the base ({@code key_statistics.safetensors}), so the registry's store
 * holds it once and another editor replica (or this one after losing its disk) downloads it by digest instead of
 * recomputing.
 */
@ApplicationScoped
public class KeyStatisticsStore {

    private static final Logger LOG = Logger.getLogger(KeyStatisticsStore.class);

    private final Database db;
    private final DerivedFiles files;
    private final StatisticsCorpus corpus;

    KeyStatisticsStore(Database db, InputCache cache, EditorConfig config) {
        this.db = db;
        this.files = new DerivedFiles(config.storage().cacheDir().toAbsolutePath().resolve("key-statistics"), cache);
        this.corpus = new StatisticsCorpus(config.statistics().corpus(), config.statistics().tokens());
    }

    /**
     * Statistics of a base and where their file is.
     *
     * @param file     the safetensors file, named by its sha256
     * @param computed whether this call computed them (false: reused)
     */
    public record Obtained(KeyStatistics statistics, Path file, String sha256, boolean computed) {
    }

    /** The corpus statistics and held-out text come from. */
    public StatisticsCorpus corpus() {
        return corpus;
    }

    /**
     * The statistics of {@code base} over every layer, reused when any earlier job made them.
     *
     * @throws java.util.concurrent.CancellationException when {@code progress} asks to stop while computing
     */
    public Obtained obtain(ResolvedVersion base, Transformer model, Tokenizer tokenizer, Progress progress)
            throws IOException {
        String digest = digest(base, corpus.identity(), corpus.tokens());
        Optional<Obtained> known = reuse(digest);
        if (known.isPresent()) {
            return known.get();
        }
        String text = corpus.text(model, tokenizer);
        List<Integer> layers = IntStream.range(0, model.layers()).boxed().toList();
        KeyStatistics statistics = KeyStatistics.compute(model, tokenizer, text, layers, corpus.tokens(), progress);
        DerivedFiles.Kept kept = files.keep("statistics", statistics::write);
        db.update("DELETE FROM key_statistics WHERE digest = ?", digest);
        db.update("INSERT INTO key_statistics (digest, sha256, size, base, tokens, corpus_sha256, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)", digest, kept.sha256(), kept.size(), base.exactRef(),
                statistics.tokens(), statistics.corpus(), Instant.now());
        return new Obtained(statistics, kept.file(), kept.sha256(), true);
    }

    /** The statistics recorded for {@code digest}, from the local file or the registry's blob; empty if neither has them. */
    private Optional<Obtained> reuse(String digest) {
        List<String> shas = db.query("SELECT sha256 FROM key_statistics WHERE digest = ?", r -> r.getString(1),
                digest);
        if (shas.isEmpty()) {
            return Optional.empty();
        }
        String sha = shas.getFirst();
        try {
            Path file = files.find(sha);
            return Optional.of(new Obtained(KeyStatistics.read(file), file, sha, false));
        } catch (IOException | RegistryUnavailable e) {
            // not uploaded yet (the job that computed them failed before its upload) or unreadable: compute again
            LOG.infof("key statistics %s are recorded but unavailable (%s); computing them again", sha,
                    e.getMessage());
            return Optional.empty();
        }
    }

    /** sha256 over the base's weight files (path and digest, sorted by path), the corpus identity and the token count. */
    static String digest(ResolvedVersion base, String corpusIdentity, long tokens) {
        StringBuilder text = new StringBuilder("emend.key_statistics.v1\n");
        base.manifest().stream()
                .filter(e -> e.path().endsWith(".safetensors") && !e.path().endsWith("key_statistics.safetensors")
                        && !e.path().endsWith("edit_delta.safetensors")
                        && !e.path().endsWith(NullSpaceProjectors.FILE_NAME)
                        && !e.path().endsWith(WrittenKeys.FILE_NAME))
                .sorted(Comparator.comparing(ResolvedVersion.ManifestEntry::path))
                .forEach(e -> text.append(e.path()).append(' ').append(e.sha256()).append('\n'));
        text.append("corpus ").append(corpusIdentity).append('\n').append("tokens ").append(tokens).append('\n');
        return StatisticsCorpus.sha256(text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
