package io.emend.trainer.data;

/**
 * A data file a job cannot train on: missing, over the size limit, not matching its digest, malformed JSONL (the
 * message names the line). The job fails at {@code validating_files} with this message.
 */
public class DatasetRejected extends RuntimeException {

    private final String field;

    public DatasetRejected(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The request field that named the file ({@code training_file}, {@code gate.probe_file}, ...). */
    public String field() {
        return field;
    }
}
