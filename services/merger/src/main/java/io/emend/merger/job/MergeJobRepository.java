package io.emend.merger.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import io.emend.service.job.JobState;
import io.quarkus.arc.InjectableInstance;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code merge_job} table. Every state change is one conditional UPDATE ({@code WHERE state = ...}), so a cancel
 * racing the runner can never move a job out of a state it has already left.
 */
@ApplicationScoped
public class MergeJobRepository {

    private static final String COLUMNS = "id, state, model, alias, recipe_text, recipe_format, inputs, progress,"
            + " message, version_number, problem, created_at, updated_at";
    private static final TypeReference<Map<String, String>> INPUTS = new TypeReference<>() {
    };

    private final AgroalDataSource dataSource;
    private final ObjectMapper json;

    MergeJobRepository(@Any InjectableInstance<AgroalDataSource> dataSources, ObjectMapper json) {
        this.dataSource = dataSources.getActive();
        this.json = json;
    }

    public void insert(MergeJob job) {
        update("INSERT INTO merge_job (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                job.id(), job.state().wire(), job.model(), job.alias(), job.recipe(), job.json() ? "json" : "yaml",
                write(job.inputs()), job.progress(), job.message(), job.versionNumber(), job.problem(), job.createdAt(),
                job.updatedAt());
    }

    public Optional<MergeJob> find(String id) {
        List<MergeJob> rows = list("SELECT " + COLUMNS + " FROM merge_job WHERE id = ?", id);
        return rows.stream().findFirst();
    }

    /** Newest first. */
    public List<MergeJob> all(int limit) {
        return list("SELECT " + COLUMNS + " FROM merge_job ORDER BY created_at DESC, id LIMIT " + limit);
    }

    /** Oldest first, so jobs run in the order they were asked for. */
    public List<MergeJob> inState(JobState state) {
        return list("SELECT " + COLUMNS + " FROM merge_job WHERE state = ? ORDER BY created_at, id", state.wire());
    }

    /** Moves a job from {@code from} to {@code to}; false when it was no longer in {@code from}. */
    public boolean transition(String id, JobState from, JobState to, double progress, String message) {
        JobState.check(from, to);
        return update("UPDATE merge_job SET state = ?, progress = ?, message = ?, updated_at = ? WHERE id = ? AND state = ?",
                to.wire(), progress, message, Instant.now(), id, from.wire()) == 1;
    }

    /**
     * Fails a running job because of its inputs, recording the problem type with the reason; false when it was no
     * longer running.
     */
    public boolean failForInputs(String id, double progress, String message, String problem) {
        JobState.check(JobState.RUNNING, JobState.FAILED);
        return update("UPDATE merge_job SET state = ?, progress = ?, message = ?, problem = ?, updated_at = ?"
                + " WHERE id = ? AND state = ?", JobState.FAILED.wire(), progress, message, problem, Instant.now(), id,
                JobState.RUNNING.wire()) == 1;
    }

    /** Records progress of a running job. */
    public void progress(String id, double progress, String message) {
        update("UPDATE merge_job SET progress = ?, message = ?, updated_at = ? WHERE id = ? AND state = ?",
                progress, message, Instant.now(), id, JobState.RUNNING.wire());
    }

    /** Records the registry version a running job made. */
    public void version(String id, int number) {
        update("UPDATE merge_job SET version_number = ?, updated_at = ? WHERE id = ?", number, Instant.now(), id);
    }

    private List<MergeJob> list(String sql, Object... params) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = prepare(connection, sql, params);
                ResultSet rows = statement.executeQuery()) {
            List<MergeJob> jobs = new ArrayList<>();
            while (rows.next()) {
                jobs.add(new MergeJob(rows.getString("id"), JobState.of(rows.getString("state")),
                        rows.getString("model"), rows.getString("alias"), rows.getString("recipe_text"),
                        "json".equals(rows.getString("recipe_format")), read(rows.getString("inputs")),
                        rows.getDouble("progress"), rows.getString("message"),
                        (Integer) rows.getObject("version_number"), rows.getString("problem"),
                        instant(rows, "created_at"),
                        instant(rows, "updated_at")));
            }
            return jobs;
        } catch (SQLException e) {
            throw new IllegalStateException("the merge job table failed: " + e.getMessage(), e);
        }
    }

    private int update(String sql, Object... params) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = prepare(connection, sql, params)) {
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("the merge job table failed: " + e.getMessage(), e);
        }
    }

    private static PreparedStatement prepare(Connection connection, String sql, Object[] params) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            Object value = params[i] instanceof Instant instant ? instant.atOffset(ZoneOffset.UTC) : params[i];
            statement.setObject(i + 1, value);
        }
        return statement;
    }

    private static Instant instant(ResultSet row, String column) throws SQLException {
        OffsetDateTime value = row.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    private String write(Map<String, String> inputs) {
        try {
            return json.writeValueAsString(inputs);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Map<String, String> read(String text) {
        try {
            return json.readValue(text, INPUTS);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("merge_job.inputs is not a JSON map: " + e.getMessage(), e);
        }
    }
}
