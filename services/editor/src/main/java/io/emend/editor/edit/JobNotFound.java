package io.emend.editor.edit;

/** No job has this id. */
public class JobNotFound extends RuntimeException {
    public JobNotFound(String id) {
        super("no edit job " + id);
    }
}
