package io.emend.editor.edit;

/** A cancel came after the job had already ended. */
public class JobFinished extends RuntimeException {
    public JobFinished(EditJob job) {
        super("edit job " + job.id() + " already ended (" + job.state().wire() + "); there is nothing to cancel");
    }
}
