package io.emend.trainer.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.service.job.JobState;
import io.emend.trainer.database.TrainerDatabase;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The {@code fine_tune_job}, {@code fine_tune_event} and {@code fine_tune_checkpoint} tables. Every state change is
 * one conditional UPDATE ({@code WHERE state = ...}) checked against the kit's {@link JobState} rules, so a cancel or
 * pause racing the runner can never move a job out of a state it has already left.
 */
@ApplicationScoped
public class TrainingJobRepository {

    private static final String COLUMNS = "id, state, parent_ref, model, alias, request, progress, message, step,"
            + " total_steps, version_number, files, result, policy_id, created_at, updated_at";
    private static final TypeReference<List<DataFile>> FILES = new TypeReference<>() {
    };

    private final TrainerDatabase db;
    private final ObjectMapper json;

    TrainingJobRepository(TrainerDatabase db, ObjectMapper json) {
        this.db = db;
        this.json = json;
    }

    public void insert(TrainingJob job) {
        db.update(insertSql(), insertParams(job, null));
    }

    /** Inserts a job inside a transaction, with the key that makes a redelivered trigger a duplicate. */
    public void insert(TrainerDatabase.Transaction tx, TrainingJob job, String triggerKey) throws SQLException {
        tx.update(insertSql(), insertParams(job, triggerKey));
    }

    private static String insertSql() {
        return "INSERT INTO fine_tune_job (" + COLUMNS + ", trigger_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?, ?, ?, ?)";
    }

    private Object[] insertParams(TrainingJob job, String triggerKey) {
        return new Object[] {job.id(), job.state().wire(), job.parentRef(), job.model(), job.alias(),
                write(job.request()), job.progress(), job.message(), job.step(), job.totalSteps(), job.versionNumber(),
                write(job.files()), job.result() == null ? null : write(job.result()), job.policyId(), job.createdAt(),
                job.updatedAt(), triggerKey};
    }

    public Optional<TrainingJob> find(String id) {
        return db.query("SELECT " + COLUMNS + " FROM fine_tune_job WHERE id = ?", this::read, id).stream().findFirst();
    }

    /** Newest first. */
    public List<TrainingJob> all(int limit) {
        return db.query("SELECT " + COLUMNS + " FROM fine_tune_job ORDER BY created_at DESC, id LIMIT " + limit,
                this::read);
    }

    /** Oldest first, so jobs run in the order they were asked for. */
    public List<TrainingJob> inState(JobState state) {
        return db.query("SELECT " + COLUMNS + " FROM fine_tune_job WHERE state = ? ORDER BY created_at, id", this::read,
                state.wire());
    }

    /** A policy's jobs, newest first. */
    public List<TrainingJob> ofPolicy(String policyId) {
        return db.query("SELECT " + COLUMNS + " FROM fine_tune_job WHERE policy_id = ? ORDER BY created_at DESC, id",
                this::read, policyId);
    }

    /** Moves a job from {@code from} to {@code to}; false when it was no longer in {@code from}. */
    public boolean transition(String id, JobState from, JobState to, double progress, String message) {
        JobState.check(from, to);
        return db.update("UPDATE fine_tune_job SET state = ?, progress = ?, message = ?, updated_at = ?"
                + " WHERE id = ? AND state = ?", to.wire(), progress, message, Instant.now(), id, from.wire()) == 1;
    }

    /** Records progress of a running job. */
    public void progress(String id, double progress, String message, int step, int totalSteps) {
        db.update("UPDATE fine_tune_job SET progress = ?, message = ?, step = ?, total_steps = ?, updated_at = ?"
                + " WHERE id = ? AND state = ?", progress, message, step, totalSteps, Instant.now(), id,
                JobState.RUNNING.wire());
    }

    /** Records the data files a job's validation pinned. */
    public void files(String id, List<DataFile> files) {
        db.update("UPDATE fine_tune_job SET files = ?, updated_at = ? WHERE id = ?", write(files), Instant.now(), id);
    }

    /** Records the steps done (the checkpoint a paused or interrupted job resumes from). */
    public void step(String id, int step) {
        db.update("UPDATE fine_tune_job SET step = ?, updated_at = ? WHERE id = ?", step, Instant.now(), id);
    }

    public void result(String id, TrainingResult result) {
        db.update("UPDATE fine_tune_job SET result = ?, updated_at = ? WHERE id = ?", write(result), Instant.now(), id);
    }

    /** Records the registry version a running job made. */
    public void version(String id, int number) {
        db.update("UPDATE fine_tune_job SET version_number = ?, updated_at = ? WHERE id = ?", number, Instant.now(), id);
    }

    // ---- events ----

    /** Appends to a job's event list. */
    public void event(String jobId, JobEventView.Level level, String type, String message, Object data) {
        db.update("INSERT INTO fine_tune_event (job_id, created_at, level, type, message, data) VALUES (?, ?, ?, ?, ?, ?)",
                jobId, Instant.now(), level.wire(), type, message, data == null ? null : write(data));
    }

    /** A job's events, oldest first. */
    public List<JobEventView> events(String jobId, int limit) {
        return db.query("SELECT id, created_at, level, type, message, data FROM fine_tune_event WHERE job_id = ?"
                + " ORDER BY id LIMIT " + limit, row -> new JobEventView("ftevent-" + row.getLong("id"),
                TrainerDatabase.instant(row, "created_at").getEpochSecond(),
                JobEventView.Level.of(row.getString("level")), row.getString("type"), row.getString("message"),
                readTree(row.getString("data"))), jobId);
    }

    // ---- checkpoints ----

    public void checkpoint(String jobId, int step, Double trainLoss, Double validationLoss) {
        db.update("DELETE FROM fine_tune_checkpoint WHERE job_id = ? AND step = ?", jobId, step);
        db.update("INSERT INTO fine_tune_checkpoint (job_id, step, train_loss, validation_loss, created_at)"
                + " VALUES (?, ?, ?, ?, ?)", jobId, step, trainLoss, validationLoss, Instant.now());
    }

    /** A job's checkpoints, newest first (as OpenAI lists them). */
    public List<CheckpointView> checkpoints(String jobId) {
        return db.query("SELECT step, train_loss, validation_loss, created_at FROM fine_tune_checkpoint"
                + " WHERE job_id = ? ORDER BY step DESC", row -> new CheckpointView("ftckpt-" + jobId + "-"
                + row.getInt("step"), jobId, row.getInt("step"), TrainerDatabase.nullableDouble(row, "train_loss"),
                TrainerDatabase.nullableDouble(row, "validation_loss"),
                TrainerDatabase.instant(row, "created_at").getEpochSecond()), jobId);
    }

    private TrainingJob read(ResultSet row) throws SQLException {
        String result = row.getString("result");
        String files = row.getString("files");
        return new TrainingJob(row.getString("id"), JobState.of(row.getString("state")), row.getString("parent_ref"),
                row.getString("model"), row.getString("alias"), read(row.getString("request"), FineTuneRequest.class),
                row.getDouble("progress"), row.getString("message"), row.getInt("step"),
                TrainerDatabase.nullableInt(row, "total_steps"), TrainerDatabase.nullableInt(row, "version_number"),
                files == null ? List.of() : readFiles(files), result == null ? null : read(result, TrainingResult.class),
                row.getString("policy_id"), TrainerDatabase.instant(row, "created_at"),
                TrainerDatabase.instant(row, "updated_at"));
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    private <T> T read(String text, Class<T> type) {
        try {
            return json.readValue(text, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored " + type.getSimpleName() + " is not valid JSON: "
                    + e.getMessage(), e);
        }
    }

    private List<DataFile> readFiles(String text) {
        try {
            return json.readValue(text, FILES);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("fine_tune_job.files is not a JSON list: " + e.getMessage(), e);
        }
    }

    private com.fasterxml.jackson.databind.JsonNode readTree(String text) {
        try {
            return text == null ? null : json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("fine_tune_event.data is not JSON: " + e.getMessage(), e);
        }
    }
}
