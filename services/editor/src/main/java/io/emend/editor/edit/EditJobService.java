package io.emend.editor.edit;

import io.emend.core.format.hf.HfConfig;
import io.emend.core.model.ModelConfig;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.editor.EditorConfig;
import io.emend.editor.ledger.EditNotFound;
import io.emend.editor.ledger.Ledger;
import io.emend.editor.ledger.LedgerEdit;
import io.emend.service.input.InputCache;
import io.emend.service.job.JobEvents;
import io.emend.service.job.JobState;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/** Submitting, reading and cancelling edit and rollback jobs; running them is {@link EditJobRunner}'s. */
@ApplicationScoped
public class EditJobService {

    static final int LIST_LIMIT = 100;

    private final EditJobRepository jobs;
    private final RegistryClient registry;
    private final InputCache cache;
    private final Ledger ledger;
    private final EditJobRunner runner;
    private final JobEvents<EditJob, JobView> events;
    private final EditorConfig config;

    EditJobService(EditJobRepository jobs, RegistryClient registry, InputCache cache, Ledger ledger,
                   EditJobRunner runner, JobEvents<EditJob, JobView> events, EditorConfig config) {
        this.jobs = jobs;
        this.registry = registry;
        this.cache = cache;
        this.ledger = ledger;
        this.runner = runner;
        this.events = events;
        this.config = config;
    }

    /**
     * Checks the request (fields, method, the model reference against the registry, every request against the model's
     * tokenizer and context), records the job as queued and hands it to the runner. Nothing is written when a check
     * fails.
     */
    public EditJob submit(String body) {
        EditSubmission submission = EditSubmission.parse(body, config.limits().maxEdits());
        ResolvedVersion parent = registry.resolve(submission.model());
        checkAgainstModel(submission, parent);
        String model = submission.output().model().orElse(parent.model());
        return queue(EditJob.EDIT, model, submission.output().alias().orElse(null), parent.exactRef(), body);
    }

    /**
     * Queues a rollback of one edit: a new version of the latest edit version carrying it (or {@code version}), with
     * every other edit of that version recomputed from its base.
     *
     * @throws EditNotFound      when the ledger has no such edit
     * @throws InvalidSubmission when {@code version} does not carry the edit, or {@code alias} is not a name
     */
    public EditJob rollback(String editId, Optional<Integer> version, Optional<String> alias) {
        LedgerEdit edit = ledger.find(editId).orElseThrow(() -> new EditNotFound(editId));
        alias.ifPresent(a -> EditSubmission.requireName("alias", a));
        List<LedgerEdit.Presence> carriers = edit.presence().stream()
                .filter(p -> p.origin().equals(LedgerEdit.Presence.EDIT) && p.model().equals(edit.model()))
                .sorted(Comparator.comparingInt(LedgerEdit.Presence::number)).toList();
        LedgerEdit.Presence from;
        if (version.isPresent()) {
            from = carriers.stream().filter(p -> p.number() == version.get()).findFirst()
                    .orElseThrow(() -> new InvalidSubmission("version", "edit " + editId + " is not carried by "
                            + edit.model() + ":" + version.get() + "; it is carried by " + carriers.stream()
                            .map(LedgerEdit.Presence::ref).toList()));
        } else if (carriers.isEmpty()) {
            throw new InvalidSubmission("id", "no version of " + edit.model() + " carries edit " + editId);
        } else {
            from = carriers.getLast();
        }
        registry.resolve(from.ref());
        return queue(EditJob.ROLLBACK, edit.model(), alias.orElse(null), from.ref(),
                new RollbackRequest(editId).toJson());
    }

    private EditJob queue(String operation, String model, String alias, String parent, String request) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        EditJob job = new EditJob(UUID.randomUUID().toString(), operation, JobState.QUEUED, model, alias, parent,
                request, 0, "queued", null, null, now, now);
        jobs.insert(job);
        events.stateChanged(job);
        runner.enqueue(job.id());
        return job;
    }

    /** Reads the parent's config and tokenizer (two small files, cached) and checks every request against them. */
    private void checkAgainstModel(EditSubmission submission, ResolvedVersion parent) {
        Path dir = config.storage().workDir().toAbsolutePath().resolve("check-" + UUID.randomUUID());
        try {
            Files.createDirectories(dir);
            for (ResolvedVersion.ManifestEntry entry : parent.manifest()) {
                if (entry.path().equals("config.json") || entry.path().equals(Tokenizer.FILE_NAME)
                        || entry.path().equals("tokenizer_config.json")) {
                    Files.createSymbolicLink(dir.resolve(entry.path()), cache.blob(entry));
                }
            }
            if (!Files.isRegularFile(dir.resolve("config.json")) || !Files.isRegularFile(dir.resolve(Tokenizer.FILE_NAME))) {
                throw new InvalidSubmission("model", parent.exactRef() + " has no config.json and tokenizer.json;"
                        + " only Hugging Face model versions can be edited");
            }
            ModelConfig modelConfig = HfConfig.read(dir.resolve("config.json"));
            try (Tokenizer tokenizer = Tokenizer.load(dir)) {
                EditComputation.checkFits(submission.requests(), submission.method(), submission.options(),
                        modelConfig, tokenizer, config.evaluation().contextPrefixes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the config and tokenizer of " + parent.exactRef(), e);
        } finally {
            deleteQuietly(dir);
        }
    }

    public EditJob get(String id) {
        return jobs.find(id).orElseThrow(() -> new JobNotFound(id));
    }

    public List<EditJob> list() {
        return jobs.all(LIST_LIMIT);
    }

    /**
     * Cancels a job: a queued one at once, a running one at its next step (the answer then still says
     * {@code running}; the job turns {@code cancelled} moments later).
     *
     * @throws JobFinished when the job has already ended
     */
    public EditJob cancel(String id) {
        EditJob job = get(id);
        if (job.state() == JobState.QUEUED
                && jobs.transition(id, JobState.QUEUED, JobState.CANCELLED, job.progress(), "cancelled before it ran")) {
            EditJob cancelled = get(id);
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
        EditJob job = get(id);
        return events.follow(job, () -> get(id));
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover check directory holds two symbolic links; the next start's work directory sweep takes it
        }
    }
}
