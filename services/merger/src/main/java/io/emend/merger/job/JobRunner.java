package io.emend.merger.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.emend.core.format.MalformedFileException;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.adamerging.LearnedCoefficients;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.plan.MergeResult;
import io.emend.merger.MergerConfig;
import io.emend.merger.adapter.AdapterInputs;
import io.emend.merger.adapter.AdapterRequest;
import io.emend.merger.adapter.AdapterWork;
import io.emend.merger.text.TextFiles;
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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Runs merge jobs one at a time, in the order they were queued: resolve the pinned inputs, fetch their files into
 * the cache, make the result in a work directory (a recipe merge tensor by tensor, after AdaMerging's search when the
 * recipe asks for it; or an adapter request through {@link AdapterWork}), then register it (version with lineage,
 * recipe and metrics, artifacts, ready, alias). One at a time because a merge is bound by disk bandwidth, which a
 * second merge would only share.
 *
 * <p>Nothing half-made is ever visible: the registry version is created only after the merge has completed, and is
 * marked failed (with the reason) if anything after that goes wrong. A job found {@code running} at start-up was cut
 * off by a crash or a stop; it is failed with a reason saying so, because its work directory cannot be trusted, and
 * the queued jobs run.
 */
@ApplicationScoped
public class JobRunner {

    private static final Logger LOG = Logger.getLogger(JobRunner.class);
    /** Merge progress counts for this share of a job; registering the result is the rest. */
    private static final double MERGE_SHARE = 0.9;
    /** Of the merge's share, AdaMerging's search counts for this part, the tensor-by-tensor merge for the rest. */
    private static final double SEARCH_SHARE = 0.7;
    static final String INTERRUPTED = "the merger stopped while this job was running; its partial output was"
            + " discarded and no version was registered (submit it again)";

    private final MergeJobRepository jobs;
    private final RegistryClient registry;
    private final InputCache cache;
    private final TextFiles texts;
    private final AdapterWork adapters;
    private final JobEvents<MergeJob, JobView> events;
    private final ObjectMapper json;
    private final Path workRoot;
    private final long progressIntervalNanos;
    private final Map<String, AtomicBoolean> cancels = new ConcurrentHashMap<>();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "merge-job-runner");
        t.setDaemon(true);
        return t;
    });

    JobRunner(MergeJobRepository jobs, RegistryClient registry, InputCache cache, TextFiles texts, AdapterWork adapters,
              JobEvents<MergeJob, JobView> events, ObjectMapper json, MergerConfig config) {
        this.jobs = jobs;
        this.registry = registry;
        this.cache = cache;
        this.texts = texts;
        this.adapters = adapters;
        this.events = events;
        this.json = json;
        this.workRoot = config.storage().workDir().toAbsolutePath();
        this.progressIntervalNanos = config.jobs().progressInterval().toNanos();
    }

    void start(@Observes StartupEvent started) {
        recover();
    }

    void stop(@Observes ShutdownEvent stopping) {
        cancels.values().forEach(flag -> flag.set(true));
        worker.shutdownNow();
    }

    /** Fails every job left {@code running} by an earlier process, then queues the {@code queued} ones. */
    void recover() {
        for (MergeJob job : jobs.inState(JobState.RUNNING)) {
            if (cancels.containsKey(job.id())) {
                continue;
            }
            LOG.errorf("merge job %s was running when the merger stopped; failing it", job.id());
            if (job.versionNumber() != null) {
                failVersion(job.model(), job.versionNumber(), INTERRUPTED);
            }
            if (jobs.transition(job.id(), JobState.RUNNING, JobState.FAILED, job.progress(), INTERRUPTED)) {
                events.stateChanged(jobs.find(job.id()).orElseThrow());
            }
            deleteRecursively(workRoot.resolve(job.id()));
        }
        for (MergeJob job : jobs.inState(JobState.QUEUED)) {
            enqueue(job.id());
        }
    }

    void enqueue(String id) {
        worker.execute(() -> run(id));
    }

    /** Asks a running job to stop at its next tensor (or step) boundary. */
    void cancel(String id) {
        AtomicBoolean flag = cancels.get(id);
        if (flag != null) {
            flag.set(true);
        }
    }

    /** Thrown from the progress callback to stop the executor between tensors. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    private void run(String id) {
        MergeJob job = jobs.find(id).orElse(null);
        if (job == null || job.state() != JobState.QUEUED) {
            return;
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        cancels.put(id, cancelled);
        Path work = workRoot.resolve(id);
        Integer version = null;
        try {
            if (!jobs.transition(id, JobState.QUEUED, JobState.RUNNING, 0, "fetching inputs")) {
                return;
            }
            events.stateChanged(jobs.find(id).orElseThrow());
            deleteRecursively(work);
            long[] last = {System.nanoTime()};
            Produced.Progress progress = (fraction, message) -> {
                check(cancelled);
                long now = System.nanoTime();
                if (now - last[0] >= progressIntervalNanos || fraction >= 1) {
                    last[0] = now;
                    progress(id, MERGE_SHARE * Math.min(1, fraction), message);
                }
            };
            Output output;
            Produced produced;
            if (AdapterRequest.matches(job.recipe(), job.json())) {
                AdapterRequest request = AdapterRequest.parse(job.recipe(), job.json());
                output = request.output();
                produced = adapters.produce(request, AdapterInputs.Pinned.of(request, job.inputs()), work, progress);
            } else {
                MergeRequest request = MergeRequest.parse(job.recipe(), job.json());
                output = new Output(request.model(), request.alias());
                produced = merge(request, job, work, cancelled, progress);
            }
            check(cancelled);
            progress(id, MERGE_SHARE, "registering " + output.model());
            List<ResolvedVersion.ManifestEntry> manifest = manifest(produced.directory(), produced.files());
            registry.ensureModel(output.model(), "merged by the Emend merger");
            version = registry.createVersion(output.model(), new NewVersion("merge", produced.parents(),
                    recipeOf(job, produced.learned()), produced.metrics().isEmpty() ? null : produced.metrics(),
                    manifest, null));
            jobs.version(id, version);
            for (ResolvedVersion.ManifestEntry entry : manifest) {
                check(cancelled);
                registry.uploadArtifact(output.model(), version, entry.path(),
                        produced.directory().resolve(entry.path()), entry.sha256());
            }
            check(cancelled);
            registry.setState(output.model(), version, "ready", null);
            String done = "merged into " + output.model() + ":" + version;
            if (output.alias() != null) {
                registry.moveAlias(output.model(), output.alias(), version);
                done += ", now " + output.model() + "@" + output.alias();
            }
            finish(id, JobState.SUCCEEDED, 1, done);
        } catch (Cancelled e) {
            if (version != null) {
                failVersion(job.model(), version, "the merge job was cancelled");
            }
            finish(id, JobState.CANCELLED, currentProgress(id), "cancelled");
        } catch (MergeException | MalformedFileException e) {
            // the inputs' fault (non-finite weights, files core cannot read): the job carries a 422 problem
            String reason = e instanceof MalformedFileException m ? malformed(m, work) : e.getMessage();
            LOG.warnf("merge job %s failed on its inputs: %s", id, reason);
            if (version != null) {
                failVersion(job.model(), version, reason);
            }
            if (jobs.failForInputs(id, currentProgress(id), reason, IncompatibleInputs.PROBLEM)) {
                events.stateChanged(jobs.find(id).orElseThrow());
            }
        } catch (Exception | LinkageError e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            LOG.errorf(e, "merge job %s failed", id);
            if (version != null) {
                failVersion(job.model(), version, reason);
            }
            finish(id, JobState.FAILED, currentProgress(id), reason);
        } finally {
            cancels.remove(id);
            deleteRecursively(work);
        }
    }

    /**
     * A recipe merge: fetches the inputs (and AdaMerging's text), runs AdaMerging's search when asked (the first
     * {@link #SEARCH_SHARE} of the progress), then merges tensor by tensor.
     */
    private Produced merge(MergeRequest request, MergeJob job, Path work, AtomicBoolean cancelled,
                           Produced.Progress progress) throws IOException {
        Map<String, Path> dirs = new HashMap<>();
        int i = 0;
        for (String ref : request.references()) {
            check(cancelled);
            ResolvedVersion input = registry.resolve(job.inputs().get(ref));
            dirs.put(ref, cache.materialize(input, work.resolve("inputs").resolve(Integer.toString(i++))));
        }
        Optional<String> text = request.text();
        if (text.isPresent()) {
            progress.report(0, "fetching the unlabeled text");
            dirs.put(text.get(), texts.fetch("parameters.text", texts.parse("parameters.text", text.get()),
                    work.resolve("unlabeled.txt")));
        }
        double mergeFrom = text.isPresent() ? SEARCH_SHARE : 0;
        MergeResult result;
        Optional<LearnedCoefficients> learned;
        try (MergePlan plan = MergePlan.create(request.recipe(), dirs::get, (step, steps, entropy) ->
                progress.report(SEARCH_SHARE * step / steps, String.format(java.util.Locale.ROOT,
                        "adamerging step %d of %d: entropy %.4f nats", step, steps, entropy)))) {
            learned = plan.learned();
            result = MergeExecutor.run(plan, work.resolve("output"), MergeExecutor.Options.defaults(),
                    (done, total, tensor) -> progress.report(mergeFrom + (1 - mergeFrom) * done / total,
                            "merged " + done + " of " + total + " tensors"));
        }
        List<NewVersion.Parent> parents = parents(request, job.inputs());
        if (learned.isEmpty()) {
            return new Produced(result.directory(), result.files(), parents, Map.of(), null);
        }
        LearnedCoefficients l = learned.get();
        Map<String, Object> entropy = new LinkedHashMap<>();
        entropy.put("before", l.entropyBefore());
        entropy.put("after", l.entropyAfter());
        if (!Double.isNaN(l.heldOutBefore())) {
            entropy.put("held_out_measure", l.heldOutMeasure().name().toLowerCase(java.util.Locale.ROOT));
            entropy.put("held_out_before", l.heldOutBefore());
            entropy.put("held_out_after", l.heldOutAfter());
        }
        entropy.put("steps", l.steps());
        return new Produced(result.directory(), result.files(), parents, Map.of("adamerging_entropy", entropy),
                json.readTree(l.toJson()));
    }

    /** A file core cannot read, named by its place in the job's work directory rather than the merger's disk. */
    private static String malformed(MalformedFileException e, Path work) {
        Path file = Path.of(e.file()).toAbsolutePath().normalize();
        String name = file.startsWith(work) ? work.relativize(file).toString() : file.getFileName().toString();
        return "input file '" + name + "': " + e.detail();
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
        return jobs.find(id).map(MergeJob::progress).orElse(0.0);
    }

    private void finish(String id, JobState state, double progress, String message) {
        if (jobs.transition(id, JobState.RUNNING, state, progress, message)) {
            events.stateChanged(jobs.find(id).orElseThrow());
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

    /** {@code base} for the base model, {@code merged-from} for every other input, each pinned version once. */
    private static List<NewVersion.Parent> parents(MergeRequest request, Map<String, String> pinned) {
        Map<String, String> roles = new LinkedHashMap<>();
        request.recipe().baseModel().ifPresent(base -> roles.put(pinned.get(base), "base"));
        for (String ref : request.references()) {
            roles.putIfAbsent(pinned.get(ref), "merged-from");
        }
        List<NewVersion.Parent> parents = new ArrayList<>();
        roles.forEach((ref, role) -> parents.add(new NewVersion.Parent(ref, role)));
        return parents;
    }

    /**
     * The request as JSON (a YAML body converted), with the exact version each reference resolved to and what the
     * job learned (AdaMerging's coefficients), if anything.
     */
    private JsonNode recipeOf(MergeJob job, JsonNode learned) throws IOException {
        JsonNode body = job.json() ? json.readTree(job.recipe()) : new YAMLMapper().readTree(job.recipe());
        com.fasterxml.jackson.databind.node.ObjectNode recipe = json.createObjectNode();
        recipe.set("request", body);
        recipe.put("format", job.json() ? "json" : "yaml");
        recipe.set("resolved", json.valueToTree(job.inputs()));
        if (learned != null) {
            recipe.set("learned", learned);
        }
        return recipe;
    }

    private static List<ResolvedVersion.ManifestEntry> manifest(Path dir, List<String> files) throws IOException {
        List<ResolvedVersion.ManifestEntry> manifest = new ArrayList<>();
        for (String name : files) {
            Path file = dir.resolve(name);
            if (!Files.isRegularFile(file)) {
                continue;
            }
            manifest.add(new ResolvedVersion.ManifestEntry(name, InputCache.sha256(file), Files.size(file),
                    mediaType(name)));
        }
        return manifest;
    }

    private static String mediaType(String path) {
        if (path.endsWith(".json")) {
            return "application/json";
        }
        if (path.endsWith(".yml") || path.endsWith(".yaml")) {
            return "application/yaml";
        }
        return "application/octet-stream";
    }

    /** Deletes a directory tree, logging rather than failing: a leftover work directory harms nothing. */
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
