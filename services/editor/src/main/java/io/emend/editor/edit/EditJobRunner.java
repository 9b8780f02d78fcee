package io.emend.editor.edit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.edit.Progress;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.edit.alphaedit.NullSpaceProjectors;
import io.emend.core.edit.alphaedit.WrittenKeys;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.editor.EditorConfig;
import io.emend.editor.ledger.Ledger;
import io.emend.editor.ledger.LedgerEdit;
import io.emend.editor.retention.RetentionCheck;
import io.emend.editor.statistics.KeyStatisticsStore;
import io.emend.editor.statistics.NullSpaceStore;
import io.emend.service.input.InputCache;
import io.emend.service.job.JobEvents;
import io.emend.service.job.JobState;
import io.emend.service.registry.NewVersion;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Runs edit and rollback jobs one at a time, in the order they were queued: plan (base, parent delta, ledger), fetch
 * the base, obtain its key statistics, compute and measure the edits, write the result (the edited model, its
 * delta's factors, the statistics), then register it (version, artifacts, ledger, ready, alias if the gate passes).
 * One at a time because an edit fills the CPU (or the GPU) it runs on.
 *
 * <p>Nothing half-made is ever visible: the registry version is created only after the edit has been computed, and
 * is marked failed (with the reason) if anything after that goes wrong; its ledger rows are removed then. A job found
 * {@code running} at start-up was cut off by a crash or a stop; it is failed with a reason saying so, and the queued
 * jobs run.
 */
@ApplicationScoped
public class EditJobRunner {

    private static final Logger LOG = Logger.getLogger(EditJobRunner.class);
    private static final long PROGRESS_INTERVAL_NANOS = 200_000_000L;
    static final String INTERRUPTED = "the editor stopped while this job was running; its partial output was"
            + " discarded and no version was registered (submit it again)";

    private final EditJobRepository jobs;
    private final EditPlanner planner;
    private final KeyStatisticsStore statistics;
    private final NullSpaceStore nullSpaces;
    private final RegistryClient registry;
    private final InputCache cache;
    private final Ledger ledger;
    private final JobEvents<EditJob, JobView> events;
    private final ObjectMapper json;
    private final EditorConfig.EvaluationConfig evaluation;
    private final Path workRoot;
    private final Map<String, AtomicBoolean> cancels = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "edit-job-runner");
        t.setDaemon(true);
        return t;
    });

    EditJobRunner(EditJobRepository jobs, EditPlanner planner, KeyStatisticsStore statistics,
                  NullSpaceStore nullSpaces, RegistryClient registry, InputCache cache, Ledger ledger,
                  JobEvents<EditJob, JobView> events, ObjectMapper json, EditorConfig config) {
        this.jobs = jobs;
        this.planner = planner;
        this.statistics = statistics;
        this.nullSpaces = nullSpaces;
        this.registry = registry;
        this.cache = cache;
        this.ledger = ledger;
        this.events = events;
        this.json = json;
        this.evaluation = config.evaluation();
        this.workRoot = config.storage().workDir().toAbsolutePath();
    }

    void start(@Observes StartupEvent started) {
        recover();
    }

    void stop(@Observes ShutdownEvent stopping) {
        cancels.values().forEach(flag -> flag.set(true));
        worker.shutdownNow();
    }

    /** Fails every job left {@code running} by an earlier process, then queues the {@code queued} ones. */
    public void recover() {
        for (EditJob job : jobs.inState(JobState.RUNNING)) {
            if (cancels.containsKey(job.id())) {
                continue;
            }
            LOG.errorf("edit job %s was running when the editor stopped; failing it", job.id());
            if (job.versionNumber() != null) {
                failVersion(job.model(), job.versionNumber(), INTERRUPTED);
            }
            if (jobs.transition(job.id(), JobState.RUNNING, JobState.FAILED, job.progress(), INTERRUPTED)) {
                events.stateChanged(jobs.find(job.id()).orElseThrow());
            }
            deleteRecursively(workRoot.resolve(job.id()));
        }
        for (EditJob job : jobs.inState(JobState.QUEUED)) {
            enqueue(job.id());
        }
    }

    public void enqueue(String id) {
        worker.execute(() -> run(id));
    }

    /** Asks a running job to stop at its next step (a forward batch, an optimisation step, an upload). */
    void cancel(String id) {
        AtomicBoolean flag = cancels.get(id);
        if (flag != null) {
            flag.set(true);
        }
    }

    /** Reports the computation's phases as job progress (at most every 200 ms) and carries the cancel flag. */
    private final class JobProgress implements Progress {
        private final String id;
        private final AtomicBoolean cancelled;
        private final double from;
        private final double to;
        private long last;

        JobProgress(String id, AtomicBoolean cancelled, double from, double to) {
            this.id = id;
            this.cancelled = cancelled;
            this.from = from;
            this.to = to;
        }

        @Override
        public void report(String phase, long done, long total) {
            long now = System.nanoTime();
            if (now - last < PROGRESS_INTERVAL_NANOS && done < total) {
                return;
            }
            last = now;
            double share = total <= 0 ? 0 : Math.min(1, (double) done / total);
            progress(id, from + (to - from) * share, phase + (total > 1 ? " (" + done + " of " + total + ")" : ""));
        }

        @Override
        public boolean cancelled() {
            return cancelled.get();
        }
    }

    private void run(String id) {
        EditJob job = jobs.find(id).orElse(null);
        if (job == null || job.state() != JobState.QUEUED) {
            return;
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        cancels.put(id, cancelled);
        Path work = workRoot.resolve(id);
        Integer version = null;
        try {
            if (!jobs.transition(id, JobState.QUEUED, JobState.RUNNING, 0, "fetching the base model")) {
                return;
            }
            events.stateChanged(jobs.find(id).orElseThrow());
            deleteRecursively(work);
            EditPlan plan = planner.plan(job);
            Path baseDir = cache.materialize(plan.base(), work.resolve("base"));
            check(cancelled);
            Path out = work.resolve("output");
            EditComputation.Output result;
            KeyStatisticsStore.Obtained stats;
            Optional<NullSpaceStore.Obtained> nullSpace = Optional.empty();
            try (Transformer model = Transformer.open(baseDir, Optional.empty());
                    Tokenizer tokenizer = Tokenizer.load(baseDir)) {
                progress(id, 0.05, "key statistics of " + plan.base().exactRef());
                stats = statistics.obtain(plan.base(), model, tokenizer, new JobProgress(id, cancelled, 0.05, 0.3));
                String heldOut = statistics.corpus().heldOut(model, tokenizer);
                check(cancelled);
                if (EditComputation.editor(plan.method(), model.config(), plan.options()) instanceof AlphaEditor a
                        && !plan.requests().isEmpty()) {
                    nullSpace = Optional.of(nullSpaces.obtain(stats.sha256(), stats.statistics(),
                            a.params().nullSpaceEnergy(), a.layers(), new JobProgress(id, cancelled, 0.3, 0.35)));
                }
                EditComputation.Input input = new EditComputation.Input(plan.prior(),
                        plan.remeasured().stream().map(LedgerEdit::request).toList(), plan.requests(), plan.method(),
                        plan.options(), evaluation.contextPrefixes(), evaluation.fluencyPrompts(),
                        Optional.of(heldOut), plan.priorKeys(), nullSpace.map(NullSpaceStore.Obtained::projectors));
                result = new EditComputation(model, tokenizer, stats.statistics())
                        .run(input, new JobProgress(id, cancelled, 0.35, 0.85));
            }
            check(cancelled);
            progress(id, 0.85, "writing the edited model");
            EditDeltaCheckpoint.materialize(result.delta(), baseDir, out);
            result.delta().write(out.resolve(EditPlanner.DELTA_FILE));
            Files.copy(stats.file(), out.resolve(EditPlanner.STATISTICS_FILE));
            if (nullSpace.isPresent()) {
                Files.copy(nullSpace.get().file(), out.resolve(NullSpaceProjectors.FILE_NAME));
            }
            if (result.writtenKeys().isPresent()) {
                result.writtenKeys().get().write(out.resolve(WrittenKeys.FILE_NAME));
            }
            List<String> gateFailures = plan.gate().failures(result.scores());
            ObjectNode metrics = metrics(result, plan, gateFailures);
            jobs.result(id, metrics.toString());
            check(cancelled);

            progress(id, 0.9, "registering " + job.model());
            List<ResolvedVersion.ManifestEntry> manifest = manifest(out);
            registry.ensureModel(job.model(), "edited by the Emend editor");
            version = registry.createVersion(job.model(), new NewVersion("edit",
                    List.of(new NewVersion.Parent(plan.parent(), "edited-from")), recipe(job, plan, result, stats, nullSpace),
                    json.convertValue(metrics, Map.class), manifest, null));
            jobs.version(id, version);
            for (ResolvedVersion.ManifestEntry entry : manifest) {
                check(cancelled);
                registry.uploadArtifact(job.model(), version, entry.path(), out.resolve(entry.path()), entry.sha256());
            }
            check(cancelled);
            record(job, version, plan, result);
            registry.setState(job.model(), version, "ready", null);
            finish(id, JobState.SUCCEEDED, 1, done(job, version, gateFailures));
        } catch (Cancelled | CancellationException e) {
            abandon(job, version, "the edit job was cancelled");
            finish(id, JobState.CANCELLED, currentProgress(id), "cancelled");
        } catch (Exception | LinkageError e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            LOG.errorf(e, "edit job %s failed", id);
            abandon(job, version, reason);
            finish(id, JobState.FAILED, currentProgress(id), reason);
        } finally {
            cancels.remove(id);
            deleteRecursively(work);
        }
    }

    /**
     * The ledger rows of the new version: the new edits (an edit job), every edit its delta carries, and the edits
     * its base kept from earlier versions that still hold on it.
     */
    private void record(EditJob job, int version, EditPlan plan, EditComputation.Output result) {
        List<Ledger.NewEdit> added = new ArrayList<>();
        List<Ledger.Measurement> carried = new ArrayList<>();
        if (plan.rolledBack().isPresent()) {
            for (int i = 0; i < plan.survivors().size(); i++) {
                carried.add(new Ledger.Measurement(plan.survivors().get(i).id(), result.efficacies()[i]));
            }
        } else {
            for (int i = 0; i < plan.requests().size(); i++) {
                added.add(new Ledger.NewEdit(plan.requests().get(i), result.efficacies()[i]));
            }
            for (int i = 0; i < plan.carried().size(); i++) {
                carried.add(new Ledger.Measurement(plan.carried().get(i).id(), result.priorEfficacies()[i]));
            }
        }
        List<Ledger.Measurement> inherited = new ArrayList<>();
        for (int i = 0; i < plan.inherited().size(); i++) {
            inherited.add(new Ledger.Measurement(plan.inherited().get(i).id(),
                    result.priorEfficacies()[plan.carried().size() + i]));
        }
        ledger.recordVersion(job.model(), version, job.id(), plan.method().id(), added, carried);
        ledger.recordRetention(job.model(), version, inherited, RetentionCheck.HOLDS);
    }

    private String done(EditJob job, int version, List<String> gateFailures) {
        String done = (EditJob.ROLLBACK.equals(job.operation()) ? "rolled back into " : "edited into ")
                + job.model() + ":" + version;
        if (job.alias() == null) {
            return done;
        }
        if (!gateFailures.isEmpty()) {
            return done + "; the gate kept " + job.model() + "@" + job.alias() + " where it was: "
                    + String.join("; ", gateFailures);
        }
        registry.moveAlias(job.model(), job.alias(), version);
        return done + ", now " + job.model() + "@" + job.alias();
    }

    /** The job's figures, also the version's metrics: JSON numbers only (an unmeasured score is null, not NaN). */
    private ObjectNode metrics(EditComputation.Output result, EditPlan plan, List<String> gateFailures) {
        EditScores s = result.scores();
        ObjectNode m = json.createObjectNode();
        m.put("edits", s.edits());
        m.put("carried", plan.carried().size() + plan.survivors().size());
        number(m, "efficacy_before", s.efficacyBefore());
        number(m, "efficacy", s.efficacy());
        number(m, "rewrite_accuracy", s.rewriteAccuracy());
        number(m, "paraphrase_before", s.paraphraseBefore());
        number(m, "paraphrase", s.paraphrase());
        number(m, "neighborhood_before", s.neighborhoodBefore());
        number(m, "neighborhood", s.neighborhood());
        number(m, "perplexity_before", s.perplexityBefore());
        number(m, "perplexity", s.perplexity());
        number(m, "perplexity_change", s.perplexityChange());
        number(m, "fluency_before", s.fluencyBefore());
        number(m, "fluency", s.fluency());
        number(m, "edit_seconds", result.seconds());
        ObjectNode gate = m.putObject("gate");
        gate.put("passed", gateFailures.isEmpty());
        ArrayNode failures = gate.putArray("failures");
        gateFailures.forEach(failures::add);
        return m;
    }

    private static void number(ObjectNode node, String field, double value) {
        if (Double.isFinite(value)) {
            node.put(field, value);
        } else {
            node.putNull(field);
        }
    }

    /** The version's recipe: what was asked, and what it was resolved to. */
    private ObjectNode recipe(EditJob job, EditPlan plan, EditComputation.Output result,
                              KeyStatisticsStore.Obtained stats, Optional<NullSpaceStore.Obtained> nullSpace)
            throws IOException {
        ObjectNode r = json.createObjectNode();
        r.put("operation", job.operation());
        r.put("method", plan.method().id());
        r.put(EditPlanner.BASE, plan.base().exactRef());
        r.put("parent", plan.parent());
        r.set("layers", json.valueToTree(result.layers()));
        if (plan.rolledBack().isPresent()) {
            r.put("rolledBack", plan.rolledBack().get().id());
            r.set("requests", EasyEditLayout.toJson(plan.requests()));
        } else {
            r.set("request", json.readTree(job.request()));
        }
        ObjectNode s = r.putObject("keyStatistics");
        s.put("path", EditPlanner.STATISTICS_FILE);
        s.put("sha256", stats.sha256());
        s.put("tokens", stats.statistics().tokens());
        s.put("corpusSha256", stats.statistics().corpus());
        s.put("corpus", statistics.corpus().origin());
        if (nullSpace.isPresent()) {
            NullSpaceStore.Obtained n = nullSpace.get();
            ObjectNode p = r.putObject("nullSpace");
            p.put("path", NullSpaceProjectors.FILE_NAME);
            p.put("sha256", n.sha256());
            p.put("energy", n.projectors().energy());
            p.set("layers", json.valueToTree(List.copyOf(n.projectors().layers().keySet())));
        }
        if (result.writtenKeys().isPresent()) {
            ObjectNode k = r.putObject("writtenKeys");
            k.put("path", WrittenKeys.FILE_NAME);
            k.put("edits", result.writtenKeys().get().edits());
            k.put("fromParent", plan.priorKeys().edits());
        }
        return r;
    }

    /** Thrown between steps to stop a cancelled job. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    private static void check(AtomicBoolean cancelled) {
        if (cancelled.get()) {
            throw new Cancelled();
        }
    }

    private void progress(String id, double fraction, String message) {
        jobs.progress(id, fraction, message);
        jobs.find(id).ifPresent(events::progressed);
    }

    private double currentProgress(String id) {
        return jobs.find(id).map(EditJob::progress).orElse(0.0);
    }

    private void finish(String id, JobState state, double progress, String message) {
        if (jobs.transition(id, JobState.RUNNING, state, progress, message)) {
            events.stateChanged(jobs.find(id).orElseThrow());
        }
    }

    /** A version made before the failure is marked failed and leaves the ledger. */
    private void abandon(EditJob job, Integer version, String reason) {
        if (version == null) {
            return;
        }
        try {
            ledger.forgetVersion(job.model(), version);
        } catch (RuntimeException e) {
            LOG.errorf("could not remove %s:%d from the ledger: %s", job.model(), version, e.getMessage());
        }
        failVersion(job.model(), version, reason);
    }

    private void failVersion(String model, int version, String reason) {
        try {
            registry.setState(model, version, "failed", reason);
        } catch (RuntimeException e) {
            LOG.errorf("could not mark %s:%d failed (%s); it stays pending and is never served", model, version,
                    e.getMessage());
        }
    }

    private static List<ResolvedVersion.ManifestEntry> manifest(Path dir) throws IOException {
        List<ResolvedVersion.ManifestEntry> manifest = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                String name = file.getFileName().toString();
                manifest.add(new ResolvedVersion.ManifestEntry(name, InputCache.sha256(file), Files.size(file),
                        name.endsWith(".json") ? "application/json" : "application/octet-stream"));
            }
        }
        return manifest;
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warnf("could not delete the work directory %s: %s", dir, e.getMessage());
        }
    }
}
