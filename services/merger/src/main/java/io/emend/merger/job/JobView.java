package io.emend.merger.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.emend.service.job.JobState;
import io.emend.service.problem.Problem;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A job on the wire (REST answers and SSE events).
 *
 * @param problem for a job that failed because of its inputs, the problem document a submission rejected for the
 *                same reason gets (type, title, status 422, detail, the job as instance); absent otherwise
 * @param version the registry version made ({@code model:number}), once there is one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobView(String id, JobState state, String model, String alias, Map<String, String> inputs,
                      double progress, String message, Problem problem, String version, Instant createdAt,
                      Instant updatedAt) {

    public static JobView of(MergeJob job) {
        Problem problem = job.problem() == null ? null : Problem.of(IncompatibleInputs.STATUS, job.problem(),
                job.message(), "/v1/merges/" + job.id(), null, List.of());
        return new JobView(job.id(), job.state(), job.model(), job.alias(), job.inputs(), job.progress(),
                job.message(), problem, job.versionNumber() == null ? null : job.model() + ":" + job.versionNumber(),
                job.createdAt(), job.updatedAt());
    }

    /** A page of jobs, newest first. */
    public record Page(java.util.List<JobView> items) {
    }
}
