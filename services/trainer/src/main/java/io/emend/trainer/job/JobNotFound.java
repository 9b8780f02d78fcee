package io.emend.trainer.job;

/** No fine-tuning job has this id. */
public class JobNotFound extends RuntimeException {
    public JobNotFound(String id) {
        super("no fine-tuning job " + id);
    }
}
