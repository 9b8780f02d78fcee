package io.emend.registry.version;

import io.emend.registry.artifact.ManifestRepository;
import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** SQL for {@code model_version} and {@code version_parent}. */
@ApplicationScoped
public class VersionRepository {

    private static final String SELECT = "SELECT v.id, v.model_id, m.name AS model_name, v.seq, v.state, v.operation,"
            + " v.recipe, v.metrics, v.reason, v.created_at FROM model_version v JOIN model m ON m.id = v.model_id";

    private final Database db;
    private final ManifestRepository manifests;

    VersionRepository(Database db, ManifestRepository manifests) {
        this.db = db;
        this.manifests = manifests;
    }

    /** The row of a new version; parents and manifest are inserted separately. */
    public void insert(Version version) {
        db.update("INSERT INTO model_version (id, model_id, seq, state, operation, recipe, metrics, reason, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", version.id(), version.modelId(), version.number(),
                version.state().name(), version.operation().name(), version.recipe(), version.metrics(),
                version.reason(), version.createdAt());
        for (int i = 0; i < version.parents().size(); i++) {
            Version.Parent parent = version.parents().get(i);
            db.update("INSERT INTO version_parent (version_id, parent_id, parent_role, position) VALUES (?, ?, ?, ?)",
                    version.id(), parent.id(), parent.role().name(), i);
        }
    }

    public int nextNumber(UUID modelId) {
        return (int) db.count("SELECT COALESCE(MAX(seq), 0) + 1 FROM model_version WHERE model_id = ?", modelId);
    }

    public Optional<Version> find(String model, int number) {
        return db.one(SELECT + " WHERE m.name = ? AND v.seq = ?", this::map, model, number);
    }

    public Optional<Version> findById(UUID id) {
        return db.one(SELECT + " WHERE v.id = ?", this::map, id);
    }

    /** The newest version of a model that is ready, the target of a bare model-name reference. */
    public Optional<Version> latestReady(String model) {
        return db.one(SELECT + " WHERE m.name = ? AND v.seq = (SELECT MAX(r.seq) FROM model_version r"
                + " WHERE r.model_id = m.id AND r.state = ?)", this::map, model, VersionState.READY.name());
    }

    public List<Version> list(String model, Optional<VersionState> state) {
        if (state.isPresent()) {
            return db.list(SELECT + " WHERE m.name = ? AND v.state = ? ORDER BY v.seq", this::map, model,
                    state.get().name());
        }
        return db.list(SELECT + " WHERE m.name = ? ORDER BY v.seq", this::map, model);
    }

    public void updateState(UUID id, VersionState state, String reason) {
        db.update("UPDATE model_version SET state = ?, reason = ? WHERE id = ?", state.name(), reason, id);
    }

    public void updateMetrics(UUID id, String metrics) {
        db.update("UPDATE model_version SET metrics = ? WHERE id = ?", metrics, id);
    }

    /** The versions made from {@code parentId}, each with the role the parent plays for it. */
    public List<Child> childrenOf(UUID parentId) {
        return db.list("SELECT p.version_id, p.parent_role FROM version_parent p WHERE p.parent_id = ?"
                + " ORDER BY p.version_id", row -> new Child(row.getObject("version_id", UUID.class),
                        ParentRole.valueOf(row.getString("parent_role"))), parentId);
    }

    /** A child edge as seen from the parent. */
    public record Child(UUID id, ParentRole role) {
    }

    private Version map(ResultSet row) throws SQLException {
        UUID id = row.getObject("id", UUID.class);
        List<Version.Parent> parents = db.list("SELECT p.parent_id, m.name, v.seq, p.parent_role FROM version_parent p"
                + " JOIN model_version v ON v.id = p.parent_id JOIN model m ON m.id = v.model_id"
                + " WHERE p.version_id = ? ORDER BY p.position",
                r -> new Version.Parent(r.getObject("parent_id", UUID.class), r.getString("name"), r.getInt("seq"),
                        ParentRole.valueOf(r.getString("parent_role"))), id);
        Instant createdAt = Database.instant(row, "created_at");
        return new Version(id, row.getObject("model_id", UUID.class), row.getString("model_name"), row.getInt("seq"),
                VersionState.valueOf(row.getString("state")), Operation.valueOf(row.getString("operation")),
                row.getString("recipe"), row.getString("metrics"), parents, manifests.of(id), createdAt,
                row.getString("reason"));
    }
}
