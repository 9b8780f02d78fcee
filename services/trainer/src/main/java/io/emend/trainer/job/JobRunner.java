package io.emend.trainer.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.format.MalformedFileException;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.Method;
import io.emend.core.train.StepReport;
import io.emend.core.train.TrainingDiverged;
import io.emend.service.input.InputCache;
import io.emend.service.input.InputRejected;
import io.emend.service.job.JobEvents;
import io.emend.service.job.JobState;
import io.emend.service.registry.NewVersion;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.registry.UnknownReference;
import io.emend.trainer.TrainerConfig;
import io.emend.trainer.data.DatasetFiles;
import io.emend.trainer.data.DatasetRejected;
import io.emend.trainer.gate.GateResult;
import io.emend.trainer.gate.QualityGate;
import io.emend.trainer.kubernetes.KubernetesJobs;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Runs fine-tuning jobs through their lifecycle: {@code validating_files} (fetch the parent and the data, check every
 * file against the model and the limits) on one thread, then {@code queued → running} on another, one job at a time
 * (DJL allows one gradient collector per JVM, and a second job would only share the cores), in the order they were
 * queued. A run checkpoints every {@code checkpoint_every} steps into the job's work directory; pause writes a
 * checkpoint and stops, resume queues the job again and it continues from that checkpoint.
 *
 * <p>After training the gate judges the result against the parent, and only then is anything registered: a pending
 * version ({@code finetune}, parent {@code adapter-of}), its files, {@code ready}, and the alias when the gate passed.
 * A failure after the version was created marks it {@code failed}, so no half-made version is ever {@code ready}.
 *
 * <p>Restarts: a job found {@code running} at start-up was cut off by a stop or crash; it is queued again and resumes
 * from its last checkpoint (its work directory survives), or fails with the reason if it had already started
 * registering. Jobs in {@code validating_files} are validated again and {@code queued} ones run.
 */
@ApplicationScoped
public class JobRunner {

    private static final Logger LOG = Logger.getLogger(JobRunner.class);
    /** Training counts for this share of a job's progress; the gate and registering are the rest. */
    private static final double TRAIN_SHARE = 0.9;
    private static final long PROGRESS_INTERVAL_NANOS = 200_000_000L;
    static final String INTERRUPTED_REGISTERING = "the trainer stopped while this job was registering its version;"
            + " that version was marked failed (submit the job again)";

    private final TrainingJobRepository jobs;
    private final RegistryClient registry;
    private final InputCache cache;
    private final DatasetFiles datasets;
    private final JobEvents<TrainingJob, JobView> events;
    private final KubernetesJobs kubernetes;
    private final ObjectMapper json;
    private final Path workRoot;
    private final boolean onKubernetes;
    private final Set<String> pauses = ConcurrentHashMap.newKeySet();
    private final Set<String> cancels = ConcurrentHashMap.newKeySet();
    private final Set<String> active = ConcurrentHashMap.newKeySet();
    private final ExecutorService validator = Executors.newSingleThreadExecutor(r -> daemon(r, "finetune-validator"));
    private final ExecutorService trainer = Executors.newSingleThreadExecutor(r -> daemon(r, "finetune-runner"));

    JobRunner(TrainingJobRepository jobs, RegistryClient registry, InputCache cache, DatasetFiles datasets,
              JobEvents<TrainingJob, JobView> events, KubernetesJobs kubernetes, ObjectMapper json,
              TrainerConfig config) {
        this.jobs = jobs;
        this.registry = registry;
        this.cache = cache;
        this.datasets = datasets;
        this.events = events;
        this.kubernetes = kubernetes;
        this.json = json;
        this.workRoot = config.storage().workDir().toAbsolutePath();
        this.onKubernetes = config.kubernetes().enabled();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    void start(@Observes StartupEvent started) {
        recover();
    }

    void stop(@Observes ShutdownEvent stopping) {
        validator.shutdownNow();
        trainer.shutdownNow();
    }

    /** Picks up what an earlier process left: see the class comment. */
    void recover() {
        for (TrainingJob job : jobs.inState(JobState.RUNNING)) {
            if (active.contains(job.id())) {
                continue;
            }
            if (job.versionNumber() != null) {
                LOG.errorf("fine-tune %s was registering when the trainer stopped; failing it", job.id());
                failVersion(job.model(), job.versionNumber(), INTERRUPTED_REGISTERING);
                finish(job.id(), JobState.RUNNING, JobState.FAILED, job.progress(), INTERRUPTED_REGISTERING);
                continue;
            }
            String message = "the trainer stopped while this job was running; it resumes from its last checkpoint"
                    + " (step " + job.step() + ")";
            if (jobs.transition(job.id(), JobState.RUNNING, JobState.QUEUED, job.progress(), message)) {
                log(job.id(), JobEventView.Level.WARN, message, null);
                events.stateChanged(jobs.find(job.id()).orElseThrow());
            }
        }
        for (TrainingJob job : jobs.inState(JobState.VALIDATING_FILES)) {
            validateLater(job.id());
        }
        for (TrainingJob job : jobs.inState(JobState.QUEUED)) {
            trainLater(job.id());
        }
    }

    void validateLater(String id) {
        validator.execute(() -> validate(id));
    }

    void trainLater(String id) {
        trainer.execute(() -> train(id));
    }

    /** The job's work directory: its inputs, checkpoints and output. */
    Path workDir(String id) {
        return workRoot.resolve(id);
    }

    /** Asks a running job to stop at its next step; true when it is running here. */
    boolean requestPause(String id) {
        if (!active.contains(id)) {
            return false;
        }
        pauses.add(id);
        return true;
    }

    /** Asks a running job to stop at its next step and end cancelled. */
    void requestCancel(String id) {
        cancels.add(id);
    }

    // ---- validating_files ----

    private void validate(String id) {
        TrainingJob job = jobs.find(id).orElse(null);
        if (job == null || job.state() != JobState.VALIDATING_FILES) {
            return;
        }
        Inputs inputs = null;
        try {
            inputs = fetch(job, Optional.empty());
            TrainingRun.validate(inputs.run(), TrainingRequests.config(job.request()));
            jobs.files(id, inputs.files());
            String message = "files validated: " + describe(inputs.files());
            if (jobs.transition(id, JobState.VALIDATING_FILES, JobState.QUEUED, 0, "queued; " + message)) {
                log(id, JobEventView.Level.INFO, message, null);
                events.stateChanged(jobs.find(id).orElseThrow());
                trainLater(id);
            }
        } catch (MalformedFileException e) {
            // core names the local copy; the user knows the file by the reference they sent
            String file = inputs == null ? null : inputs.names().get(e.file());
            finish(id, JobState.VALIDATING_FILES, JobState.FAILED, 0, "validating files failed: "
                    + (file == null ? "a data file" : file) + ": " + e.detail());
            deleteRecursively(workRoot.resolve(id));
        } catch (DatasetRejected | InputRejected | UnknownReference | RegistryUnavailable | IllegalArgumentException
                 | InvalidRequest e) {
            String reason = "validating files failed: " + reasonOf(e);
            finish(id, JobState.VALIDATING_FILES, JobState.FAILED, 0, reason);
            deleteRecursively(workRoot.resolve(id));
        } catch (Exception | LinkageError e) {
            LOG.errorf(e, "validating fine-tune %s failed", id);
            finish(id, JobState.VALIDATING_FILES, JobState.FAILED, 0, "validating files failed: " + reasonOf(e));
            deleteRecursively(workRoot.resolve(id));
        }
    }

    private static String describe(List<DataFile> files) {
        return String.join(", ", files.stream().map(f -> f.role() + " " + f.ref() + " (" + f.examples()
                + " examples, sha256 " + f.sha256().substring(0, 12) + "…)").toList());
    }

    /**
     * The job's files fetched and pinned, and the parent laid out, under its work directory.
     *
     * @param names each local copy's path (as core's messages name it) to the request field and reference
     */
    record Inputs(TrainingRun.Inputs run, List<DataFile> files, Map<String, String> names) {
    }

    /**
     * Fetches the parent and every data file into the job's work directory.
     *
     * @param pinned the digests validation recorded: a file whose bytes changed since is rejected
     */
    private Inputs fetch(TrainingJob job, Optional<List<DataFile>> pinned) throws IOException {
        Path work = workRoot.resolve(job.id());
        Path parentDir = work.resolve("parent");
        deleteRecursively(parentDir);
        ParentModel parent = ParentModel.fetch(registry, cache, job.parentRef(), parentDir);
        FineTuneRequest r = job.request();
        Fetching f = new Fetching(work.resolve("data"), pinned.orElse(List.of()));
        List<Path> training = new ArrayList<>();
        List<String> refs = TrainingRequests.trainingFiles(r);
        for (int i = 0; i < refs.size(); i++) {
            String field = r.trainingFile() != null ? "training_file" : "training_files[" + i + "]";
            training.add(f.one("training", field, refs.get(i), "train-" + i + ".jsonl"));
        }
        Path validation = r.validationFile() == null ? null
                : f.one("validation", "validation_file", r.validationFile(), "validation.jsonl");
        List<Path> replay = new ArrayList<>();
        for (int i = 0; i < r.forgetting().replayFiles().size(); i++) {
            replay.add(f.one("replay", "forgetting.replay_files[" + i + "]", r.forgetting().replayFiles().get(i),
                    "replay-" + i + ".jsonl"));
        }
        Path retention = r.gate().retentionFile() == null ? null
                : f.one("retention", "gate.retention_file", r.gate().retentionFile(), "retention.jsonl");
        Path probes = r.gate().probeFile() == null ? null
                : f.one("probe", "gate.probe_file", r.gate().probeFile(), "probes.jsonl");
        return new Inputs(new TrainingRun.Inputs(parent, training, validation, replay, retention, probes),
                List.copyOf(f.files), Map.copyOf(f.names));
    }

    /** Collects fetched files; a file pinned at validation must still have its digest. */
    private final class Fetching {
        final Path dir;
        final Map<String, String> expected = new LinkedHashMap<>();
        final List<DataFile> files = new ArrayList<>();
        final Map<String, String> names = new LinkedHashMap<>();

        Fetching(Path dir, List<DataFile> pinned) {
            this.dir = dir;
            pinned.forEach(p -> expected.put(p.role() + " " + p.ref(), p.sha256()));
        }

        Path one(String role, String field, String ref, String name) throws IOException {
            DatasetFiles.Fetched fetched = datasets.fetch(field, ref,
                    Optional.ofNullable(expected.get(role + " " + ref)), dir.resolve(name));
            files.add(new DataFile(role, ref, fetched.sha256(), fetched.size(),
                    DatasetFiles.examples(fetched.file())));
            names.put(fetched.file().toString(), field + " '" + ref + "'");
            return fetched.file();
        }
    }

    // ---- queued → running → ... ----

    private void train(String id) {
        TrainingJob job = jobs.find(id).orElse(null);
        if (job == null || job.state() != JobState.QUEUED) {
            return;
        }
        active.add(id);
        Path work = workRoot.resolve(id);
        Integer version = null;
        try {
            String start = job.step() > 0 ? "resuming at step " + job.step() : "starting";
            if (!jobs.transition(id, JobState.QUEUED, JobState.RUNNING, job.progress(), start)) {
                return;
            }
            log(id, JobEventView.Level.INFO, "fine-tune " + start, null);
            events.stateChanged(jobs.find(id).orElseThrow());
            Inputs inputs = fetch(job, Optional.of(job.files()));
            FineTuneConfig config = TrainingRequests.config(job.request());
            Path output = work.resolve("output");
            deleteRecursively(output);
            TrainingRun.Outcome outcome = onKubernetes
                    ? onKubernetes(job, inputs.run(), config, work, output)
                    : TrainingRun.run(inputs.run(), config, work.resolve("checkpoints"), output, control(id),
                            listener(id));
            GateResult gate = QualityGate.judge(job.request().gate(), outcome.figures());
            log(id, gate.passed() ? JobEventView.Level.INFO : JobEventView.Level.WARN, gate.passed()
                    ? "gate passed: " + String.join("; ", gate.checks())
                    : "gate failed: " + String.join("; ", gate.reasons()), json.valueToTree(gate));
            TrainingResult result = new TrainingResult(outcome.metrics(), gate, false);
            jobs.result(id, result);
            progress(id, TRAIN_SHARE, "registering " + job.model(), outcome.totalSteps(), outcome.totalSteps());

            List<ResolvedVersion.ManifestEntry> manifest = manifest(output);
            registry.ensureModel(job.model(), "fine-tuned by the Emend trainer");
            Method method = Method.parse(job.request().method());
            version = registry.createVersion(job.model(), new NewVersion("finetune",
                    List.of(new NewVersion.Parent(job.parentRef(), method == Method.FULL ? "base" : "adapter-of")),
                    recipe(job, inputs), metrics(outcome, gate), manifest, null));
            jobs.version(id, version);
            for (ResolvedVersion.ManifestEntry entry : manifest) {
                registry.uploadArtifact(job.model(), version, entry.path(), output.resolve(entry.path()),
                        entry.sha256());
            }
            registry.setState(job.model(), version, "ready", null);
            String done = "fine-tuned into " + job.model() + ":" + version;
            boolean moved = false;
            if (job.alias() != null && gate.passed()) {
                registry.moveAlias(job.model(), job.alias(), version);
                moved = true;
                done += "; gate passed, " + job.model() + "@" + job.alias() + " now points at it";
            } else if (job.alias() != null) {
                done += "; gate failed, " + job.model() + "@" + job.alias() + " was left where it was: "
                        + String.join("; ", gate.reasons());
            } else {
                done += gate.passed() ? "; gate passed" : "; gate failed: " + String.join("; ", gate.reasons());
            }
            jobs.result(id, result.withAliasMoved(moved));
            finish(id, JobState.RUNNING, JobState.SUCCEEDED, 1, done);
            deleteRecursively(work);
        } catch (TrainingRun.Paused e) {
            jobs.step(id, e.step);
            String message = "paused at step " + e.step + "; resume continues from its checkpoint";
            finish(id, JobState.RUNNING, JobState.PAUSED, currentProgress(id), message);
        } catch (TrainingRun.Cancelled e) {
            finish(id, JobState.RUNNING, JobState.CANCELLED, currentProgress(id), "cancelled");
            deleteRecursively(work);
        } catch (TrainingDiverged e) {
            finish(id, JobState.RUNNING, JobState.FAILED, currentProgress(id), e.getMessage());
            deleteRecursively(work);
        } catch (Exception | LinkageError e) {
            String reason = reasonOf(e);
            LOG.errorf(e, "fine-tune %s failed", id);
            if (version != null) {
                failVersion(job.model(), version, reason);
            }
            finish(id, JobState.RUNNING, JobState.FAILED, currentProgress(id), reason);
            deleteRecursively(work);
        } finally {
            active.remove(id);
            pauses.remove(id);
            cancels.remove(id);
        }
    }

    /**
     * Runs the fine-tune as a Kubernetes Job: stages the inputs as plain files on the shared volume (the cache's
     * links would point outside it), waits for the pod, and reads its adapter and {@code metrics.json}. The pod's
     * {@code emend finetune} measures held-out and retention loss but not negative flips, so a probe set is not
     * checked on this path (the gate says "not measured").
     */
    private TrainingRun.Outcome onKubernetes(TrainingJob job, TrainingRun.Inputs in, FineTuneConfig config, Path work,
                                             Path output) throws IOException {
        resolveLinks(work.resolve("parent"));
        Path data = work.resolve("data").resolve("train.jsonl");
        Files.deleteIfExists(data);
        for (Path p : in.training()) {
            Files.write(data, Files.readAllBytes(p), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
        KubernetesJobs.Staged staged = new KubernetesJobs.Staged(in.parent().baseDir(), in.parent().adapterDirs(),
                data, in.replay());
        String id = job.id();
        KubernetesJobs.Result result;
        try {
            result = kubernetes.run(id, staged, config, new KubernetesJobs.Control() {
                @Override
                public boolean pauseRequested() {
                    return pauses.contains(id);
                }

                @Override
                public boolean cancelRequested() {
                    return cancels.contains(id);
                }
            });
        } catch (KubernetesJobs.Stopped e) {
            if (e.pause()) {
                throw new TrainingRun.Paused(e.step());
            }
            throw new TrainingRun.Cancelled();
        }
        KubernetesJobs.copyInto(KubernetesJobs.resultFiles(result.adapterDir(), config.method()), output);
        var m = result.metrics();
        TrainingMetrics metrics = new TrainingMetrics(m.path("steps").asInt(), number(m, "train_loss"),
                number(m, "held_out_loss_before"), number(m, "held_out_loss_after"),
                number(m, "held_out_perplexity_before"), number(m, "held_out_perplexity_after"),
                number(m, "retention_loss_before"), number(m, "retention_loss_after"),
                m.path("tokens_trained").asLong(), number(m, "tokens_per_second"));
        Double retentionBefore = metrics.retentionLossBefore() == null ? null : Math.exp(metrics.retentionLossBefore());
        Double retentionAfter = metrics.retentionLossAfter() == null ? null : Math.exp(metrics.retentionLossAfter());
        return new TrainingRun.Outcome(output, metrics, new io.emend.trainer.gate.GateFigures(
                metrics.heldOutPerplexityBefore(), metrics.heldOutPerplexityAfter(), retentionBefore, retentionAfter,
                null, null, null), metrics.steps());
    }

    private static Double number(com.fasterxml.jackson.databind.JsonNode node, String field) {
        com.fasterxml.jackson.databind.JsonNode value = node.get(field);
        return value == null || !value.isNumber() ? null : value.asDouble();
    }

    /** Replaces every symbolic link under {@code dir} by a copy of what it points at. */
    private static void resolveLinks(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isSymbolicLink).toList()) {
                Path target = p.toRealPath();
                Files.delete(p);
                Files.copy(target, p);
            }
        }
    }

    private TrainingRun.Control control(String id) {
        return new TrainingRun.Control() {
            @Override
            public boolean pauseRequested() {
                return pauses.contains(id);
            }

            @Override
            public boolean cancelRequested() {
                return cancels.contains(id);
            }
        };
    }

    private TrainingRun.Listener listener(String id) {
        long[] last = {0};
        return new TrainingRun.Listener() {
            @Override
            public void resumed(int step, int totalSteps) {
                log(id, JobEventView.Level.INFO, "resumed from the checkpoint at step " + step + " of " + totalSteps,
                        null);
            }

            @Override
            public void step(StepReport r) {
                jobs.step(id, r.step());
                long now = System.nanoTime();
                if (now - last[0] < PROGRESS_INTERVAL_NANOS && r.step() != r.totalSteps()) {
                    return;
                }
                last[0] = now;
                String message = String.format(Locale.ROOT, "step %d/%d: training loss=%.4f", r.step(),
                        r.totalSteps(), r.loss());
                ObjectNode data = json.createObjectNode().put("step", r.step()).put("total_steps", r.totalSteps())
                        .put("learning_rate", r.learningRate());
                putFinite(data, "train_loss", r.loss());
                log(id, JobEventView.Level.INFO, "metrics", message, data);
                progress(id, TRAIN_SHARE * r.step() / r.totalSteps(), message, r.step(), r.totalSteps());
            }

            @Override
            public void checkpoint(int step, Double trainLoss, Double validationLoss) {
                jobs.checkpoint(id, step, trainLoss, validationLoss);
                ObjectNode data = json.createObjectNode().put("step", step);
                if (trainLoss != null) {
                    data.put("train_loss", trainLoss);
                }
                if (validationLoss != null) {
                    data.put("validation_loss", validationLoss);
                }
                log(id, JobEventView.Level.INFO, "metrics", "checkpoint at step " + step, data);
            }
        };
    }

    private static void putFinite(ObjectNode node, String key, double value) {
        if (Double.isFinite(value)) {
            node.put(key, value);
        }
    }

    private void progress(String id, double fraction, String message, int step, int totalSteps) {
        jobs.progress(id, fraction, message, step, totalSteps);
        jobs.find(id).ifPresent(events::progressed);
    }

    private double currentProgress(String id) {
        return jobs.find(id).map(TrainingJob::progress).orElse(0.0);
    }

    /** Moves the job to an end (or paused) state, logs it and announces it. */
    private void finish(String id, JobState from, JobState to, double progress, String message) {
        if (jobs.transition(id, from, to, progress, message)) {
            log(id, to == JobState.FAILED ? JobEventView.Level.ERROR : JobEventView.Level.INFO,
                    to.wire() + ": " + message, null);
            events.stateChanged(jobs.find(id).orElseThrow());
        }
    }

    private void log(String id, JobEventView.Level level, String message, Object data) {
        log(id, level, "message", message, data);
    }

    private void log(String id, JobEventView.Level level, String type, String message, Object data) {
        try {
            jobs.event(id, level, type, message, data);
        } catch (RuntimeException e) {
            LOG.warnf("could not record an event of fine-tune %s: %s", id, e.getMessage());
        }
    }

    private void failVersion(String model, int version, String reason) {
        try {
            registry.setState(model, version, "failed", reason);
        } catch (RuntimeException e) {
            LOG.errorf("could not mark %s:%d failed (%s); it stays pending and is never served", model, version,
                    e.getMessage());
        }
    }

    /** The recipe: the normalized request, the pinned parent and base, and every data file's digest. */
    private Map<String, Object> recipe(TrainingJob job, Inputs inputs) {
        Map<String, Object> recipe = new LinkedHashMap<>();
        recipe.put("request", job.request());
        recipe.put("parent", job.parentRef());
        recipe.put("base", inputs.run().parent().baseRef());
        recipe.put("data", job.files().isEmpty() ? inputs.files() : job.files());
        if (job.policyId() != null) {
            recipe.put("policy", job.policyId());
        }
        recipe.put("job", job.id());
        return recipe;
    }

    private Map<String, Object> metrics(TrainingRun.Outcome outcome, GateResult gate) {
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("training", outcome.metrics());
        metrics.put("gate", gate);
        return metrics;
    }

    private static List<ResolvedVersion.ManifestEntry> manifest(Path dir) throws IOException {
        List<ResolvedVersion.ManifestEntry> manifest = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                String name = dir.relativize(file).toString().replace('\\', '/');
                manifest.add(new ResolvedVersion.ManifestEntry(name, InputCache.sha256(file), Files.size(file),
                        name.endsWith(".json") ? "application/json" : "application/octet-stream"));
            }
        }
        return manifest;
    }

    private static String reasonOf(Throwable e) {
        if (e instanceof MalformedFileException m) {
            return m.detail();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    static void deleteRecursively(Path dir) {
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
