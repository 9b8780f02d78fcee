package io.emend.trainer.job;

import io.emend.service.job.JobEvents;
import io.emend.service.job.JobState;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.emend.trainer.TrainerConfig;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

/** Submitting, reading, cancelling, pausing and resuming fine-tuning jobs; running them is {@link JobRunner}'s. */
@ApplicationScoped
public class TrainingJobService {

    static final int LIST_LIMIT = 100;
    static final int EVENT_LIMIT = 10_000;

    private final TrainingJobRepository jobs;
    private final RegistryClient registry;
    private final JobRunner runner;
    private final JobEvents<TrainingJob, JobView> events;
    private final int maxSteps;

    TrainingJobService(TrainingJobRepository jobs, RegistryClient registry, JobRunner runner,
                       JobEvents<TrainingJob, JobView> events, TrainerConfig config) {
        this.jobs = jobs;
        this.registry = registry;
        this.runner = runner;
        this.events = events;
        this.maxSteps = config.limits().maxSteps();
    }

    /**
     * Checks the request, pins its model reference to the exact version it names now, records the job in
     * {@code validating_files} and hands it to the runner, which fetches and checks the files.
     *
     * @throws InvalidRequest for a malformed request
     * @throws io.emend.service.registry.UnknownReference when the model reference matches no ready version
     */
    public TrainingJob submit(FineTuneRequest request) {
        TrainingRequests.requireReference(request.model());
        ResolvedVersion parent = registry.resolve(request.model());
        TrainingJob job = create(TrainingRequests.normalize(request, parent.model(), maxSteps), parent, null);
        jobs.insert(job);
        accepted(job);
        return job;
    }

    /** A new job row for a normalized request (not yet stored). */
    public static TrainingJob create(FineTuneRequest normalized, ResolvedVersion parent, String policyId) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return new TrainingJob(UUID.randomUUID().toString(), JobState.VALIDATING_FILES, parent.exactRef(),
                normalized.output().model(), normalized.output().alias(), normalized, 0, "validating files", 0, null,
                null, List.of(), null, policyId, now, now);
    }

    /** Announces a stored job and starts validating its files. */
    public void accepted(TrainingJob job) {
        jobs.event(job.id(), JobEventView.Level.INFO, "message", "created fine-tuning job " + job.id() + " on "
                + job.parentRef() + (job.policyId() == null ? "" : " for retraining policy " + job.policyId()), null);
        events.stateChanged(job);
        runner.validateLater(job.id());
    }

    public TrainingJob get(String id) {
        return jobs.find(id).orElseThrow(() -> new JobNotFound(id));
    }

    public List<TrainingJob> list() {
        return jobs.all(LIST_LIMIT);
    }

    public List<JobEventView> events(String id) {
        get(id);
        return jobs.events(id, EVENT_LIMIT);
    }

    public List<CheckpointView> checkpoints(String id) {
        get(id);
        return jobs.checkpoints(id);
    }

    /**
     * Cancels a job: one that is validating, queued or paused at once; a running one at its next step (the answer then
     * still says {@code running}; the job turns {@code cancelled} moments later).
     *
     * @throws JobConflict when the job has already ended
     */
    public TrainingJob cancel(String id) {
        for (JobState from : List.of(JobState.VALIDATING_FILES, JobState.QUEUED, JobState.PAUSED)) {
            TrainingJob job = get(id);
            if (job.state() == from && jobs.transition(id, from, JobState.CANCELLED, job.progress(),
                    "cancelled while " + from.wire())) {
                TrainingJob cancelled = get(id);
                jobs.event(id, JobEventView.Level.INFO, "message", "cancelled while " + from.wire(), null);
                events.stateChanged(cancelled);
                JobRunner.deleteRecursively(runner.workDir(id));
                return cancelled;
            }
        }
        TrainingJob job = get(id);
        if (job.state().terminal()) {
            throw new JobConflict(job, "cancelled");
        }
        runner.requestCancel(id);
        return get(id);
    }

    /**
     * Pauses a running job: it writes a checkpoint after its current step and turns {@code paused}.
     *
     * @throws JobConflict when the job is not running
     */
    public TrainingJob pause(String id) {
        TrainingJob job = get(id);
        if (job.state() != JobState.RUNNING || !runner.requestPause(id)) {
            throw new JobConflict(job, "paused (only a running job can)");
        }
        return get(id);
    }

    /**
     * Resumes a paused job: it is queued again and continues from its checkpoint.
     *
     * @throws JobConflict when the job is not paused
     */
    public TrainingJob resume(String id) {
        TrainingJob job = get(id);
        if (job.state() != JobState.PAUSED || !jobs.transition(id, JobState.PAUSED, JobState.QUEUED, job.progress(),
                "queued to resume at step " + job.step())) {
            throw new JobConflict(job, "resumed (only a paused job can)");
        }
        TrainingJob queued = get(id);
        jobs.event(id, JobEventView.Level.INFO, "message", "resume asked; queued to continue at step " + job.step(),
                null);
        events.stateChanged(queued);
        runner.trainLater(id);
        return queued;
    }

    /** The job's updates as they happen, starting with its current state. */
    public Multi<JobView> follow(String id) {
        TrainingJob job = get(id);
        return events.follow(job, () -> get(id));
    }
}
