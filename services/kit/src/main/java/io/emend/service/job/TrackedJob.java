package io.emend.service.job;

/** What {@link JobEvents} needs to know of a service's job to announce it. */
public interface TrackedJob {

    String id();

    JobState state();

    /** The model whose new version the job produces: the events' Kafka key. */
    String model();

    /** Fraction done, 0 to 1. */
    double progress();

    /** What a person should read: the step, or why the job failed; may be null. */
    String message();
}
