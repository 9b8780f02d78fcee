package io.emend.merger.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.emend.service.job.JobState;
import java.time.Instant;
import java.util.Map;

/**
 * A job on the wire (REST answers and SSE events).
 *
 * @param version the registry version made ({@code model:number}), once there is one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobView(String id, JobState state, String model, String alias, Map<String, String> inputs,
                      double progress, String message, String version, Instant createdAt, Instant updatedAt) {

    public static JobView of(MergeJob job) {
        return new JobView(job.id(), job.state(), job.model(), job.alias(), job.inputs(), job.progress(),
                job.message(), job.versionNumber() == null ? null : job.model() + ":" + job.versionNumber(),
                job.createdAt(), job.updatedAt());
    }

    /** A page of jobs, newest first. */
    public record Page(java.util.List<JobView> items) {
    }
}
