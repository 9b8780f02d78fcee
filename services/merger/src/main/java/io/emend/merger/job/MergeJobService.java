package io.emend.merger.job;

import io.emend.merger.MergerConfig;
import io.emend.merger.adapter.AdapterRequest;
import io.emend.merger.adapter.AdapterWork;
import io.emend.merger.text.TextFiles;
import io.emend.service.job.JobEvents;
import io.emend.service.job.JobState;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Submitting, reading and cancelling merge jobs; running them is {@link JobRunner}'s. */
@ApplicationScoped
public class MergeJobService {

    static final int LIST_LIMIT = 100;

    private final MergeJobRepository jobs;
    private final RegistryClient registry;
    private final JobRunner runner;
    private final JobEvents<MergeJob, JobView> events;
    private final AdapterWork adapters;
    private final TextFiles texts;
    private final PlanCheck plans;
    private final Path scratchRoot;

    MergeJobService(MergeJobRepository jobs, RegistryClient registry, JobRunner runner, JobEvents<MergeJob, JobView> events,
                    AdapterWork adapters, TextFiles texts, PlanCheck plans, MergerConfig config) {
        this.jobs = jobs;
        this.registry = registry;
        this.runner = runner;
        this.events = events;
        this.adapters = adapters;
        this.texts = texts;
        this.plans = plans;
        this.scratchRoot = config.storage().workDir().toAbsolutePath();
    }

    /**
     * Checks the request (recipe or adapter request, output, every reference against the registry; adapters are read
     * to check their modules and ranks; a named text's reference form; a recipe's plan against its models' metadata,
     * see {@link PlanCheck}), records the job as queued and hands it to the runner. Nothing is recorded when a check
     * fails.
     *
     * @throws IncompatibleInputs when the recipe's models cannot be merged as it asks
     */
    public MergeJob submit(String body, boolean json) throws IOException {
        Output output;
        Map<String, String> inputs = new LinkedHashMap<>();
        if (AdapterRequest.matches(body, json)) {
            AdapterRequest request = AdapterRequest.parse(body, json);
            output = request.output();
            Path scratch = scratchRoot.resolve("submit-" + UUID.randomUUID());
            try {
                inputs.putAll(adapters.pin(request, scratch).all());
            } finally {
                JobRunner.deleteRecursively(scratch);
            }
        } else {
            MergeRequest request = MergeRequest.parse(body, json);
            output = new Output(request.model(), request.alias());
            if (request.text().isPresent()) {
                texts.check("parameters.text", texts.parse("parameters.text", request.text().get()));
            }
            Map<String, ResolvedVersion> versions = new LinkedHashMap<>();
            for (String ref : request.references()) {
                ResolvedVersion version = registry.resolve(ref);
                versions.put(ref, version);
                inputs.put(ref, version.exactRef());
            }
            plans.check(request.recipe(), versions);
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        MergeJob job = new MergeJob(UUID.randomUUID().toString(), JobState.QUEUED, output.model(), output.alias(),
                body, json, inputs, 0, "queued", null, null, now, now);
        jobs.insert(job);
        events.stateChanged(job);
        runner.enqueue(job.id());
        return job;
    }

    public MergeJob get(String id) {
        return jobs.find(id).orElseThrow(() -> new JobNotFound(id));
    }

    public List<MergeJob> list() {
        return jobs.all(LIST_LIMIT);
    }

    /**
     * Cancels a job: a queued one at once, a running one at the next tensor boundary (the answer then still says
     * {@code running}; the job turns {@code cancelled} moments later).
     *
     * @throws JobFinished when the job has already ended
     */
    public MergeJob cancel(String id) {
        MergeJob job = get(id);
        if (job.state() == JobState.QUEUED
                && jobs.transition(id, JobState.QUEUED, JobState.CANCELLED, job.progress(), "cancelled before it ran")) {
            MergeJob cancelled = get(id);
            events.stateChanged(cancelled);
            return cancelled;
        }
        job = get(id);
        if (job.state().terminal()) {
            throw new JobFinished(job);
        }
        runner.cancel(id);
        return get(id);
    }

    /** The job's updates as they happen, starting with its current state. */
    public Multi<JobView> follow(String id) {
        MergeJob job = get(id);
        return events.follow(job, () -> get(id));
    }
}
