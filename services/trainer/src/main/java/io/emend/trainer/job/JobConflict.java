package io.emend.trainer.job;

/** Cancel, pause or resume asked of a job in a state that does not allow it. */
public class JobConflict extends RuntimeException {
    public JobConflict(TrainingJob job, String action) {
        super("fine-tuning job " + job.id() + " is " + job.state().wire() + "; it cannot be " + action);
    }
}
