package io.emend.contracts.event;

import java.util.List;

/**
 * New training data is in the object store ({@link EventTypes#DATASET_LANDED}); a retraining policy may turn it into
 * a fine-tuning job for {@code model}.
 *
 * @param model the model the data is meant to train
 * @param dataset the dataset's name, e.g. {@code support-tickets}
 * @param prefix the object-store prefix holding this delivery, e.g. {@code datasets/support-tickets/2025-06-01/}
 * @param format how each file is laid out, e.g. {@code jsonl}
 * @param files every file of the delivery, with its digest so consumers can verify what they read
 */
public record DatasetLanded(String model, String dataset, String prefix, String format, List<File> files)
        implements EventData {

    /** One file of the delivery: its object-store key, SHA-256 (hex) and size in bytes. */
    public record File(String key, String sha256, long size) {
        public File {
            Fields.requireText("files[].key", key);
            Fields.requireSha256("files[].sha256", sha256);
            if (size < 0) {
                throw new IllegalArgumentException("files[].size must not be negative, was " + size);
            }
        }
    }

    public DatasetLanded {
        Fields.requireText("model", model);
        Fields.requireText("dataset", dataset);
        Fields.requireText("prefix", prefix);
        Fields.requireText("format", format);
        if (files == null || files.isEmpty()) {
            throw new IllegalArgumentException("files must list at least one file");
        }
        files = List.copyOf(files);
    }
}
