package io.emend.registry.model;

import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** SQL for the {@code model} and {@code model_tag} tables. */
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
        return db.one("SELECT " + COLUMNS + " FROM model WHERE name = ?", this::map, name);
    }

    public Optional<Model> findById(UUID id) {
        return db.one("SELECT " + COLUMNS + " FROM model WHERE id = ?", this::map, id);
    }

    /**
     * Reads the model and locks its row until the transaction ends. Every write that touches one model's versions,
     * aliases or events takes this lock first, so those writes (and the outbox rows they append) happen one at a time
     * and in commit order.
     */
    public Optional<Model> lockByName(String name) {
        return db.one("SELECT " + COLUMNS + " FROM model WHERE name = ? FOR UPDATE", this::map, name);
    }

    public List<Model> page(Optional<String> tag, int page, int size) {
        String paging = " ORDER BY name OFFSET ? ROWS FETCH FIRST ? ROWS ONLY";
        if (tag.isPresent()) {
            return db.list("SELECT " + COLUMNS + " FROM model WHERE id IN (SELECT model_id FROM model_tag WHERE tag = ?)"
                    + paging, this::map, tag.get(), (long) page * size, size);
        }
        return db.list("SELECT " + COLUMNS + " FROM model" + paging, this::map, (long) page * size, size);
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

    private Model map(ResultSet row) throws SQLException {
        UUID id = row.getObject("id", UUID.class);
        List<String> tags = db.list("SELECT tag FROM model_tag WHERE model_id = ? ORDER BY tag", r -> r.getString(1), id);
        return new Model(id, row.getString("name"), row.getString("description"), row.getString("family"), tags,
                row.getBoolean("archived"), Database.instant(row, "created_at"));
    }
}
