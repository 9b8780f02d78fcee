package io.emend.merger.job;

/** No job has this id. */
public class JobNotFound extends RuntimeException {
    public JobNotFound(String id) {
        super("no merge job " + id);
    }
}
