package io.emend.registry.alias;

import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL for {@code model_alias} and its move history {@code alias_move}. The history is read after the alias row, once
 * its statement has given its connection back: a read never holds one pooled connection while it waits for another.
 */
@ApplicationScoped
public class AliasRepository {

    private static final String SELECT = "SELECT a.id, m.name AS model_name, a.name, v.seq, a.updated_at"
            + " FROM model_alias a JOIN model m ON m.id = a.model_id JOIN model_version v ON v.id = a.version_id";

    private final Database db;

    AliasRepository(Database db) {
        this.db = db;
    }

    /** The alias with its history; empty when the model has no alias of that name. */
    public Optional<Alias> find(String model, String name) {
        return db.one(SELECT + " WHERE m.name = ? AND a.name = ?", row -> map(row, List.of()), model, name)
                .map(alias -> new Alias(alias.id(), alias.model(), alias.name(), alias.version(), alias.updatedAt(),
                        history(alias.id())));
    }

    /** Every alias of a model, without history. */
    public List<Alias> list(String model) {
        return db.list(SELECT + " WHERE m.name = ? ORDER BY a.name", row -> map(row, List.of()), model);
    }

    /** The names of the aliases that point at a version. */
    public List<String> pointingAt(UUID versionId) {
        return db.list("SELECT name FROM model_alias WHERE version_id = ? ORDER BY name", row -> row.getString(1),
                versionId);
    }

    public void insert(UUID id, UUID modelId, String name, UUID versionId, Instant at) {
        db.update("INSERT INTO model_alias (id, model_id, name, version_id, updated_at) VALUES (?, ?, ?, ?, ?)", id,
                modelId, name, versionId, at);
    }

    public void retarget(UUID id, UUID versionId, Instant at) {
        db.update("UPDATE model_alias SET version_id = ?, updated_at = ? WHERE id = ?", versionId, at, id);
    }

    public void appendMove(UUID aliasId, String action, UUID versionId, UUID previousVersionId, Instant at, String by) {
        int position = (int) db.count("SELECT COALESCE(MAX(position), 0) + 1 FROM alias_move WHERE alias_id = ?",
                aliasId);
        db.update("INSERT INTO alias_move (id, alias_id, position, action, version_id, previous_version_id, undone,"
                + " moved_at, moved_by) VALUES (?, ?, ?, ?, ?, ?, FALSE, ?, ?)", UUID.randomUUID(), aliasId, position,
                action, versionId, previousVersionId, at, by);
    }

    /** The newest {@code set} that no rollback has undone yet: the move a rollback reverses. */
    public Optional<UndoableMove> lastUndoableSet(UUID aliasId) {
        return db.one("SELECT id, previous_version_id FROM alias_move WHERE alias_id = ? AND action = 'set'"
                + " AND undone = FALSE AND position = (SELECT MAX(position) FROM alias_move WHERE alias_id = ?"
                + " AND action = 'set' AND undone = FALSE)",
                row -> new UndoableMove(row.getObject("id", UUID.class),
                        row.getObject("previous_version_id", UUID.class)), aliasId, aliasId);
    }

    public void markUndone(UUID moveId) {
        db.update("UPDATE alias_move SET undone = TRUE WHERE id = ?", moveId);
    }

    /** A move that can be rolled back, and the version it replaced (null for the alias's first target). */
    public record UndoableMove(UUID id, UUID previousVersionId) {
    }

    private List<Alias.Move> history(UUID id) {
        return db.list("SELECT v.seq, pv.seq AS previous_seq, mv.action, mv.moved_at, mv.moved_by,"
                + " mv.undone FROM alias_move mv JOIN model_version v ON v.id = mv.version_id"
                + " LEFT JOIN model_version pv ON pv.id = mv.previous_version_id"
                + " WHERE mv.alias_id = ? ORDER BY mv.position DESC",
                r -> new Alias.Move(r.getInt("seq"), (Integer) r.getObject("previous_seq", Integer.class),
                        r.getString("action"), Database.instant(r, "moved_at"), r.getString("moved_by"),
                        r.getBoolean("undone")), id);
    }

    private static Alias map(ResultSet row, List<Alias.Move> history) throws SQLException {
        return new Alias(row.getObject("id", UUID.class), row.getString("model_name"), row.getString("name"),
                row.getInt("seq"), Database.instant(row, "updated_at"), history);
    }
}
