package io.emend.registry.model;

import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL for the {@code model} and {@code model_tag} tables. Tags are read after the model rows, once their statement
 * has given its connection back: a read never holds one pooled connection while it waits for another.
 */
@ApplicationScoped
public class ModelRepository {

    private static final String COLUMNS = "id, name, description, family, archived, created_at";

    private final Database db;

    ModelRepository(Database db) {
        this.db = db;
    }

    public void insert(Model model) {
        db.update("INSERT INTO model (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?)", model.id(), model.name(),
                model.description(), model.family(), model.archived(), model.createdAt());
        for (String tag : model.tags()) {
            db.update("INSERT INTO model_tag (model_id, tag) VALUES (?, ?)", model.id(), tag);
        }
    }

    public Optional<Model> findByName(String name) {
        return db.one("SELECT " + COLUMNS + " FROM model WHERE name = ?", ModelRepository::row, name).map(this::model);
    }

    public Optional<Model> findById(UUID id) {
        return db.one("SELECT " + COLUMNS + " FROM model WHERE id = ?", ModelRepository::row, id).map(this::model);
    }

    /**
     * Reads the model and locks its row until the transaction ends. Every write that touches one model's versions,
     * aliases or events takes this lock first, so those writes (and the outbox rows they append) happen one at a time
     * and in commit order.
     */
    public Optional<Model> lockByName(String name) {
        return db.one("SELECT " + COLUMNS + " FROM model WHERE name = ? FOR UPDATE", ModelRepository::row, name)
                .map(this::model);
    }

    public List<Model> page(Optional<String> tag, int page, int size) {
        String paging = " ORDER BY name OFFSET ? ROWS FETCH FIRST ? ROWS ONLY";
        if (tag.isPresent()) {
            return db.list("SELECT " + COLUMNS + " FROM model WHERE id IN (SELECT model_id FROM model_tag WHERE tag = ?)"
                    + paging, ModelRepository::row, tag.get(), (long) page * size, size).stream().map(this::model)
                    .toList();
        }
        return db.list("SELECT " + COLUMNS + " FROM model" + paging, ModelRepository::row, (long) page * size, size)
                .stream().map(this::model).toList();
    }

    public long count(Optional<String> tag) {
        if (tag.isPresent()) {
            return db.count("SELECT COUNT(*) FROM model_tag WHERE tag = ?", tag.get());
        }
        return db.count("SELECT COUNT(*) FROM model");
    }

    public void archive(UUID id) {
        db.update("UPDATE model SET archived = TRUE WHERE id = ?", id);
    }

    /** The columns of one {@code model} row. */
    private record Row(UUID id, String name, String description, String family, boolean archived, Instant createdAt) {
    }

    private static Row row(ResultSet row) throws SQLException {
        return new Row(row.getObject("id", UUID.class), row.getString("name"), row.getString("description"),
                row.getString("family"), row.getBoolean("archived"), Database.instant(row, "created_at"));
    }

    private Model model(Row row) {
        List<String> tags = db.list("SELECT tag FROM model_tag WHERE model_id = ? ORDER BY tag", r -> r.getString(1),
                row.id());
        return new Model(row.id(), row.name(), row.description(), row.family(), tags, row.archived(), row.createdAt());
    }
}
