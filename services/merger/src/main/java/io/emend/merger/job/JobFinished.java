package io.emend.merger.job;

/** A cancel came after the job had already ended. */
public class JobFinished extends RuntimeException {
    public JobFinished(MergeJob job) {
        super("merge job " + job.id() + " already ended (" + job.state().wire() + "); there is nothing to cancel");
    }
}
