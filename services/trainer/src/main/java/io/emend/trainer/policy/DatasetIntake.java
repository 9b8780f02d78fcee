package io.emend.trainer.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.contracts.event.DatasetLanded;
import io.emend.service.input.InputRejected;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.registry.UnknownReference;
import io.emend.trainer.TrainerConfig;
import io.emend.trainer.data.DatasetFiles;
import io.emend.trainer.data.DatasetRejected;
import io.emend.trainer.database.TrainerDatabase;
import io.emend.trainer.job.FineTuneRequest;
import io.emend.trainer.job.TrainingJob;
import io.emend.trainer.job.TrainingJobRepository;
import io.emend.trainer.job.TrainingJobService;
import io.emend.trainer.job.TrainingRequests;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * What the trainer does with one {@code dataset.landed} delivery: record it once (its event id is the key, so a
 * redelivered event is recognised and ignored), count its examples (verifying each file's digest), and when a policy
 * of the model matches and enough new examples have gathered, start one fine-tune on everything that gathered, with
 * the model's earlier datasets as the replay buffer. The delivery's row, the job and the marking of the consumed
 * deliveries commit in one transaction, and the job's trigger key (policy + event id) is unique, so one event makes at
 * most one job even when two deliveries race.
 */
@ApplicationScoped
public class DatasetIntake {

    private static final Logger LOG = Logger.getLogger(DatasetIntake.class);
    private static final TypeReference<List<DatasetLanded.File>> FILES = new TypeReference<>() {
    };

    /** What became of a delivery. */
    public enum Outcome {
        /** The event id was seen before; nothing changed. */
        DUPLICATE,
        /** Recorded; no policy matched, or too few new examples so far, or its files were unusable. */
        RECORDED,
        /** Recorded and a fine-tune started. */
        JOB_STARTED
    }

    private final TrainerDatabase db;
    private final RetrainingPolicyRepository policies;
    private final TrainingJobRepository jobs;
    private final TrainingJobService service;
    private final RegistryClient registry;
    private final DatasetFiles datasets;
    private final ObjectMapper json;
    private final Path scratch;
    private final int maxSteps;

    DatasetIntake(TrainerDatabase db, RetrainingPolicyRepository policies, TrainingJobRepository jobs,
                  TrainingJobService service, RegistryClient registry, DatasetFiles datasets, ObjectMapper json,
                  TrainerConfig config) {
        this.db = db;
        this.policies = policies;
        this.jobs = jobs;
        this.service = service;
        this.registry = registry;
        this.datasets = datasets;
        this.json = json;
        this.scratch = config.storage().workDir().toAbsolutePath().resolve("landed");
        this.maxSteps = config.limits().maxSteps();
    }

    public Outcome landed(String eventId, DatasetLanded delivery) throws SQLException {
        if (!db.query("SELECT event_id FROM landed_dataset WHERE event_id = ?", r -> r.getString(1), eventId)
                .isEmpty()) {
            return Outcome.DUPLICATE;
        }
        int examples = 0;
        boolean usable = true;
        try {
            examples = examples(delivery);
        } catch (DatasetRejected | InputRejected | IOException e) {
            LOG.warnf("dataset.landed %s (%s for %s) cannot be used: %s", eventId, delivery.dataset(),
                    delivery.model(), e.getMessage());
            usable = false;
        }
        RetrainingPolicy policy = usable ? policies.forModel(delivery.model()).stream()
                .filter(p -> Boolean.TRUE.equals(p.enabled()) && p.matches(delivery.dataset()))
                .findFirst().orElse(null) : null;
        ResolvedVersion parent = null;
        if (policy != null) {
            try {
                parent = registry.resolve(parentRef(policy));
            } catch (UnknownReference e) {
                LOG.warnf("retraining policy %s cannot start a job yet: %s", policy.id(), e.getMessage());
            }
        }
        int count = examples;
        ResolvedVersion resolved = parent;
        Optional<TrainingJob> started;
        try {
            started = db.inTransaction(tx -> {
                tx.update("INSERT INTO landed_dataset (event_id, model, dataset, files, examples, policy_id, job_id,"
                                + " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", eventId, delivery.model(),
                        delivery.dataset(), write(delivery.files()), count, policy == null ? null : policy.id(), null,
                        Instant.now());
                if (policy == null || resolved == null) {
                    return Optional.empty();
                }
                return startIfDue(tx, eventId, policy, resolved);
            });
        } catch (SQLException e) {
            if (TrainerDatabase.isDuplicate(e)) {
                return Outcome.DUPLICATE;
            }
            throw e;
        }
        if (started.isEmpty()) {
            return Outcome.RECORDED;
        }
        service.accepted(started.get());
        return Outcome.JOB_STARTED;
    }

    /** {@code model@alias} when the policy names an alias that exists, else the model's latest ready version. */
    private String parentRef(RetrainingPolicy policy) {
        if (policy.alias() != null && registry.aliasTarget(policy.model(), policy.alias()).isPresent()) {
            return policy.model() + "@" + policy.alias();
        }
        return policy.model();
    }

    private record Pending(String eventId, List<DatasetLanded.File> files, int examples) {
    }

    private Optional<TrainingJob> startIfDue(TrainerDatabase.Transaction tx, String eventId, RetrainingPolicy policy,
                                             ResolvedVersion parent) throws SQLException {
        List<Pending> pending = tx.query("SELECT event_id, files, examples FROM landed_dataset WHERE policy_id = ?"
                + " AND job_id IS NULL ORDER BY received_at, event_id", r -> new Pending(r.getString("event_id"),
                read(r.getString("files")), r.getInt("examples")), policy.id());
        int gathered = pending.stream().mapToInt(Pending::examples).sum();
        if (gathered < policy.minNewExamples()) {
            LOG.infof("retraining policy %s: %d of %d new examples gathered", policy.id(), gathered,
                    policy.minNewExamples());
            return Optional.empty();
        }
        List<String> training = new ArrayList<>();
        pending.forEach(p -> p.files().forEach(f -> training.add(f.key())));
        List<String> replay = new ArrayList<>();
        tx.query("SELECT files FROM landed_dataset WHERE model = ? AND job_id IS NOT NULL ORDER BY received_at,"
                + " event_id", r -> read(r.getString("files")), policy.model())
                .forEach(files -> files.forEach(f -> replay.add(f.key())));
        FineTuneRequest request = TrainingRequests.normalize(
                RetrainingPolicyService.request(policy, training, replay, parent.exactRef()), parent.model(), maxSteps);
        TrainingJob job = TrainingJobService.create(request, parent, policy.id());
        jobs.insert(tx, job, policy.id() + "/" + eventId);
        tx.update("UPDATE landed_dataset SET job_id = ? WHERE policy_id = ? AND job_id IS NULL", job.id(), policy.id());
        return Optional.of(job);
    }

    /** Examples in the delivery's files, each fetched and checked against its announced digest. */
    private int examples(DatasetLanded delivery) throws IOException {
        Path dir = scratch.resolve(UUID.randomUUID().toString());
        try {
            int total = 0;
            for (int i = 0; i < delivery.files().size(); i++) {
                DatasetLanded.File f = delivery.files().get(i);
                DatasetFiles.Fetched fetched = datasets.fetch("files[" + i + "]", f.key(), Optional.of(f.sha256()),
                        dir.resolve(i + ".jsonl"));
                total += DatasetFiles.examples(fetched.file());
            }
            return total;
        } finally {
            if (Files.exists(dir)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private String write(List<DatasetLanded.File> files) {
        try {
            return json.writeValueAsString(files);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a delivery's files as JSON", e);
        }
    }

    private List<DatasetLanded.File> read(String text) {
        try {
            return json.readValue(text, FILES);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("landed_dataset.files is not a JSON list: " + e.getMessage(), e);
        }
    }
}
