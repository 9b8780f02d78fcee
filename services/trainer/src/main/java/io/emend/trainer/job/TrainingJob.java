package io.emend.trainer.job;

import io.emend.service.job.JobState;
import io.emend.service.job.TrackedJob;
import java.time.Instant;
import java.util.List;

/**
 * A fine-tuning job as stored.
 *
 * @param parentRef     the request's model reference pinned at submission to the exact version ({@code name:N}), so a
 *                      job resumed after a restart trains on what was asked even if an alias moved meanwhile
 * @param model         where the result goes (the output model)
 * @param alias         the alias to move to the result when the gate passes, or null
 * @param request       the normalized request
 * @param step          optimizer steps done (the last checkpoint's, while paused)
 * @param totalSteps    steps the run takes, once known
 * @param files         every data file, pinned to its digest at validation (empty before)
 * @param result        the figures and the gate's verdict, once trained
 * @param policyId      the retraining policy that started it, or null
 */
public record TrainingJob(String id, JobState state, String parentRef, String model, String alias,
                          FineTuneRequest request, double progress, String message, int step, Integer totalSteps,
                          Integer versionNumber, List<DataFile> files, TrainingResult result, String policyId,
                          Instant createdAt, Instant updatedAt) implements TrackedJob {

    /** The job kind in {@code emend.jobs} events. */
    public static final String KIND = "finetune";

    public TrainingJob {
        files = files == null ? List.of() : List.copyOf(files);
    }
}
