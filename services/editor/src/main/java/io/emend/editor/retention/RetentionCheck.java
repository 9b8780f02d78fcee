package io.emend.editor.retention;

import io.emend.core.eval.CounterFactScores;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.editor.EditorConfig;
import io.emend.editor.edit.EditComputation;
import io.emend.editor.ledger.Ledger;
import io.emend.editor.ledger.LedgerEdit;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.registry.VersionDetails;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Whether edits survive what happens to a model after them. When a descendant of a version with live edits appears
 * (a merge, a fine-tune, a quantization), its weights are loaded and every edit live in its parents is measured on
 * it; the ledger records each measurement (the edits that hold become live in the descendant, so a descendant of the
 * descendant is checked too), and the version gets its retention as metrics:
 * <pre>{@code
 * "retention": {"edits": 3, "held": 2, "rate": 0.667, "from": ["demo:2"],
 *               "perEdit": [{"id": "...", "introducedIn": "demo:2", "efficacy": 1.0}, ...]}
 * }</pre>
 */
@ApplicationScoped
public class RetentionCheck {

    private static final Logger LOG = Logger.getLogger(RetentionCheck.class);
    /** An edit holds when its efficacy is at least this (a won comparison, or most target tokens still greedy). */
    public static final double HOLDS = 0.5;

    private final RegistryClient registry;
    private final InputCache cache;
    private final Ledger ledger;
    private final Path workRoot;

    RetentionCheck(RegistryClient registry, InputCache cache, Ledger ledger, EditorConfig config) {
        this.registry = registry;
        this.cache = cache;
        this.ledger = ledger;
        this.workRoot = config.storage().workDir().toAbsolutePath();
    }

    /** The measured retention of one version. */
    public record Retention(String version, List<String> from, int edits, int held, Map<String, Double> perEdit) {

        public double rate() {
            return edits == 0 ? Double.NaN : (double) held / edits;
        }
    }

    /**
     * Checks {@code model:number} when a parent of it has live edits; empty when none has (nothing to check).
     *
     * @throws IOException when the version's files cannot be fetched
     */
    public Optional<Retention> check(String model, int number) throws IOException {
        VersionDetails version = registry.version(model, number);
        Map<String, LedgerEdit> inherited = new LinkedHashMap<>();
        List<String> from = new ArrayList<>();
        for (VersionDetails.ParentLink parent : version.parents()) {
            List<LedgerEdit> live = ledger.live(parent.model(), parent.number());
            if (!live.isEmpty()) {
                from.add(parent.exactRef());
                live.forEach(e -> inherited.putIfAbsent(e.id(), e));
            }
        }
        if (inherited.isEmpty()) {
            return Optional.empty();
        }
        List<LedgerEdit> edits = List.copyOf(inherited.values());
        double[] efficacies = measure(registry.resolve(version.exactRef()), edits);
        List<Ledger.Measurement> measured = new ArrayList<>();
        Map<String, Double> perEdit = new LinkedHashMap<>();
        int held = 0;
        for (int i = 0; i < edits.size(); i++) {
            measured.add(new Ledger.Measurement(edits.get(i).id(), efficacies[i]));
            perEdit.put(edits.get(i).id(), efficacies[i]);
            held += efficacies[i] >= HOLDS ? 1 : 0;
        }
        ledger.recordRetention(model, number, measured, HOLDS);
        Retention retention = new Retention(version.exactRef(), from, edits.size(), held, perEdit);
        registry.putMetrics(model, number, Map.of("retention", metrics(retention, edits)));
        LOG.infof("retention of %s: %d of %d edits from %s hold", version.exactRef(), held, edits.size(), from);
        return Optional.of(retention);
    }

    private static Map<String, Object> metrics(Retention r, List<LedgerEdit> edits) {
        List<Map<String, Object>> perEdit = new ArrayList<>();
        for (LedgerEdit e : edits) {
            perEdit.add(Map.of("id", e.id(), "introducedIn", e.model() + ":" + e.introducedIn(),
                    "efficacy", r.perEdit().get(e.id())));
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("edits", r.edits());
        m.put("held", r.held());
        m.put("rate", r.rate());
        m.put("from", r.from());
        m.put("perEdit", perEdit);
        return m;
    }

    /** Each edit's efficacy on the version's own weights. */
    private double[] measure(ResolvedVersion version, List<LedgerEdit> edits) throws IOException {
        Path dir = workRoot.resolve("retention-" + UUID.randomUUID());
        try {
            Path files = cache.materialize(version, dir);
            try (Transformer model = Transformer.open(files, Optional.empty());
                    Tokenizer tokenizer = Tokenizer.load(files)) {
                ForwardOptions plain = ForwardOptions.defaults();
                return CounterFactScores.measure(model, tokenizer, edits.stream().map(LedgerEdit::request).toList(),
                        plain, plain).edits().stream().mapToDouble(EditComputation::efficacyOf).toArray();
            }
        } finally {
            try (Stream<Path> walk = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
