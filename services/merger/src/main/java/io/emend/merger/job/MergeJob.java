package io.emend.merger.job;

import io.emend.service.job.JobState;
import io.emend.service.job.TrackedJob;
import java.time.Instant;
import java.util.Map;

/**
 * A merge job as stored.
 *
 * @param model         where the result goes
 * @param alias         the alias to move to the result, or null
 * @param recipe        the request body as the user sent it
 * @param json          whether {@code recipe} is JSON (else YAML)
 * @param inputs        each recipe reference pinned at submission to the exact version ({@code name:N}) it resolved to,
 *                      so a job re-run after a restart merges what was asked even if an alias moved meanwhile
 * @param progress      fraction of tensors written, 0 to 1
 * @param message       what a person should read: the step, or why the job failed
 * @param versionNumber the registry version made, once there is one
 * @param problem       for a job that failed because of its inputs (NaN or infinite weights, models that cannot be
 *                      merged), the problem type's reason ({@link IncompatibleInputs#PROBLEM}); else null
 */
public record MergeJob(String id, JobState state, String model, String alias, String recipe, boolean json,
                       Map<String, String> inputs, double progress, String message, Integer versionNumber,
                       String problem, Instant createdAt, Instant updatedAt) implements TrackedJob {

    /** The job kind in {@code emend.jobs} events. */
    public static final String KIND = "merge";

    public MergeJob {
        inputs = Map.copyOf(inputs);
    }
}
