package io.emend.trainer.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.trainer.database.TrainerDatabase;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The {@code retraining_policy} table: the policy as JSON, with its model beside it for lookups. */
@ApplicationScoped
public class RetrainingPolicyRepository {

    private final TrainerDatabase db;
    private final ObjectMapper json;

    RetrainingPolicyRepository(TrainerDatabase db, ObjectMapper json) {
        this.db = db;
        this.json = json;
    }

    public void insert(RetrainingPolicy p) {
        db.update("INSERT INTO retraining_policy (id, model, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                p.id(), p.model(), write(p), Instant.ofEpochSecond(p.createdAt()), Instant.ofEpochSecond(p.updatedAt()));
    }

    /** False when there is no such policy. */
    public boolean update(RetrainingPolicy p) {
        return db.update("UPDATE retraining_policy SET model = ?, body = ?, updated_at = ? WHERE id = ?", p.model(),
                write(p), Instant.ofEpochSecond(p.updatedAt()), p.id()) == 1;
    }

    public boolean delete(String id) {
        return db.update("DELETE FROM retraining_policy WHERE id = ?", id) == 1;
    }

    public Optional<RetrainingPolicy> find(String id) {
        return db.query("SELECT body FROM retraining_policy WHERE id = ?", this::read, id).stream().findFirst();
    }

    /** Oldest first. */
    public List<RetrainingPolicy> all() {
        return db.query("SELECT body FROM retraining_policy ORDER BY created_at, id", this::read);
    }

    /** A model's policies, oldest first. */
    public List<RetrainingPolicy> forModel(String model) {
        return db.query("SELECT body FROM retraining_policy WHERE model = ? ORDER BY created_at, id", this::read, model);
    }

    private RetrainingPolicy read(ResultSet row) throws SQLException {
        try {
            return json.readValue(row.getString("body"), RetrainingPolicy.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored retraining policy is not valid JSON: " + e.getMessage(), e);
        }
    }

    private String write(RetrainingPolicy p) {
        try {
            return json.writeValueAsString(p);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a retraining policy as JSON", e);
        }
    }
}
