package io.emend.editor.edit;

import io.emend.service.job.JobState;
import io.emend.service.job.TrackedJob;
import java.time.Instant;

/**
 * An edit or rollback job as stored.
 *
 * @param operation     {@link #EDIT} (new edits on top of {@code parent}) or {@link #ROLLBACK} (a version of
 *                      {@code parent} without one edit)
 * @param model         where the result goes
 * @param alias         the alias to move to the result once it passes the gate, or null
 * @param parent        the version the job starts from, pinned at submission ({@code name:N}), so a job re-run after a
 *                      restart edits what was asked even if an alias moved meanwhile
 * @param request       for an edit, the body as the user sent it; for a rollback, {@code {"edit": id}}
 * @param progress      fraction done, 0 to 1
 * @param message       what a person should read: the step, or why the job failed
 * @param versionNumber the registry version made, once there is one
 * @param result        the metrics and gate verdict as JSON, once the job has them
 */
public record EditJob(String id, String operation, JobState state, String model, String alias, String parent,
                      String request, double progress, String message, Integer versionNumber, String result,
                      Instant createdAt, Instant updatedAt) implements TrackedJob {

    /** The job kind in {@code io.emend.job.*} events, for edits and rollbacks alike. */
    public static final String KIND = "edit";
    public static final String EDIT = "edit";
    public static final String ROLLBACK = "rollback";
}
