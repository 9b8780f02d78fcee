package io.emend.editor.edit;

import io.emend.editor.database.Database;
import io.emend.service.job.JobState;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The {@code edit_job} table. Every state change is one conditional UPDATE ({@code WHERE state = ...}), so a cancel
 * racing the runner can never move a job out of a state it has already left.
 */
@ApplicationScoped
public class EditJobRepository {

    private static final String COLUMNS = "id, kind, state, model, alias, parent, request, progress, message,"
            + " version_number, result, created_at, updated_at";

    private final Database db;

    EditJobRepository(Database db) {
        this.db = db;
    }

    public void insert(EditJob job) {
        db.update("INSERT INTO edit_job (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                job.id(), job.operation(), job.state().wire(), job.model(), job.alias(), job.parent(), job.request(),
                job.progress(), job.message(), job.versionNumber(), job.result(), job.createdAt(), job.updatedAt());
    }

    public Optional<EditJob> find(String id) {
        return db.query("SELECT " + COLUMNS + " FROM edit_job WHERE id = ?", EditJobRepository::job, id).stream()
                .findFirst();
    }

    /** Newest first. */
    public List<EditJob> all(int limit) {
        return db.query("SELECT " + COLUMNS + " FROM edit_job ORDER BY created_at DESC, id LIMIT " + limit,
                EditJobRepository::job);
    }

    /** Oldest first, so jobs run in the order they were asked for. */
    public List<EditJob> inState(JobState state) {
        return db.query("SELECT " + COLUMNS + " FROM edit_job WHERE state = ? ORDER BY created_at, id",
                EditJobRepository::job, state.wire());
    }

    /** Moves a job from {@code from} to {@code to}; false when it was no longer in {@code from}. */
    public boolean transition(String id, JobState from, JobState to, double progress, String message) {
        JobState.check(from, to);
        return db.update("UPDATE edit_job SET state = ?, progress = ?, message = ?, updated_at = ? WHERE id = ?"
                + " AND state = ?", to.wire(), progress, message, Instant.now(), id, from.wire()) == 1;
    }

    /** Records progress of a running job. */
    public void progress(String id, double progress, String message) {
        db.update("UPDATE edit_job SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND state = ?",
                progress, message, Instant.now(), id, JobState.RUNNING.wire());
    }

    /** Records the registry version a running job made. */
    public void version(String id, int number) {
        db.update("UPDATE edit_job SET version_number = ?, updated_at = ? WHERE id = ?", number, Instant.now(), id);
    }

    /** Records what the job measured (JSON). */
    public void result(String id, String result) {
        db.update("UPDATE edit_job SET result = ?, updated_at = ? WHERE id = ?", result, Instant.now(), id);
    }

    private static EditJob job(ResultSet row) throws SQLException {
        return new EditJob(row.getString("id"), row.getString("kind"), JobState.of(row.getString("state")),
                row.getString("model"), row.getString("alias"), row.getString("parent"), row.getString("request"),
                row.getDouble("progress"), row.getString("message"), (Integer) row.getObject("version_number"),
                row.getString("result"), Database.instant(row, "created_at"), Database.instant(row, "updated_at"));
    }
}
