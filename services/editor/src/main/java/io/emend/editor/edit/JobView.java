package io.emend.editor.edit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.service.job.JobState;
import java.time.Instant;
import java.util.List;

/**
 * A job on the wire (REST answers and SSE events).
 *
 * @param operation {@code edit} or {@code rollback}
 * @param parent    the version the job starts from ({@code name:N})
 * @param version   the registry version made ({@code model:number}), once there is one
 * @param result    the metrics and gate verdict, once measured
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobView(String id, String operation, JobState state, String model, String alias, String parent,
                      double progress, String message, String version, JsonNode result, Instant createdAt,
                      Instant updatedAt) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static JobView of(EditJob job) {
        return new JobView(job.id(), job.operation(), job.state(), job.model(), job.alias(), job.parent(),
                job.progress(), job.message(), job.versionNumber() == null ? null
                : job.model() + ":" + job.versionNumber(), tree(job.result()), job.createdAt(), job.updatedAt());
    }

    private static JsonNode tree(String json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("edit_job.result is not JSON: " + e.getMessage(), e);
        }
    }

    /** A page of jobs, newest first. */
    public record Page(List<JobView> items) {
    }
}
