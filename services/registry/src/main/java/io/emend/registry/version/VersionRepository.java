package io.emend.registry.version;

import io.emend.registry.artifact.ManifestEntry;
import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * SQL for {@code model_version} and {@code version_parent}. A version is read with two statements whatever the lookup:
 * its row joined with its manifest entries, then its parents (once per version). The first statement's connection is
 * back in the pool before the second takes one: a read holding a connection while it waits for another starves the
 * pool as soon as as many reads run at once as it has connections, and each then waits for the acquisition timeout.
 */
@ApplicationScoped
public class VersionRepository {

    private static final String SELECT = "SELECT v.id, v.model_id, m.name AS model_name, v.seq, v.state, v.operation,"
            + " v.recipe, v.metrics, v.reason, v.created_at, e.path, e.sha256, e.size_bytes, e.media_type, e.present"
            + " FROM model_version v JOIN model m ON m.id = v.model_id"
            + " LEFT JOIN manifest_entry e ON e.version_id = v.id";
    private static final String ORDER = " ORDER BY v.seq, e.path";

    private final Database db;

    VersionRepository(Database db) {
        this.db = db;
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
        return one(" WHERE m.name = ? AND v.seq = ?", model, number);
    }

    public Optional<Version> findById(UUID id) {
        return one(" WHERE v.id = ?", id);
    }

    /** The version an alias of the model points at; empty when the model has no alias of that name. */
    public Optional<Version> findByAlias(String model, String alias) {
        return one(" JOIN model_alias a ON a.version_id = v.id AND a.model_id = v.model_id"
                + " WHERE m.name = ? AND a.name = ?", model, alias);
    }

    /** The newest version of a model that is ready, the target of a bare model-name reference. */
    public Optional<Version> latestReady(String model) {
        return one(" WHERE m.name = ? AND v.seq = (SELECT MAX(r.seq) FROM model_version r"
                + " WHERE r.model_id = m.id AND r.state = ?)", model, VersionState.READY.name());
    }

    public List<Version> list(String model, Optional<VersionState> state) {
        if (state.isPresent()) {
            return query(" WHERE m.name = ? AND v.state = ?", model, state.get().name());
        }
        return query(" WHERE m.name = ?", model);
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

    private Optional<Version> one(String clause, Object... params) {
        List<Version> found = query(clause, params);
        if (found.size() > 1) {
            throw new IllegalStateException("expected at most one version, got " + found.size() + " for" + clause);
        }
        return found.stream().findFirst();
    }

    /** The versions a clause selects, in number order, each with its manifest (by path) and parents. */
    private List<Version> query(String clause, Object... params) {
        List<Row> rows = db.list(SELECT + clause + ORDER, VersionRepository::row, params);
        Map<UUID, Row> heads = new LinkedHashMap<>();
        Map<UUID, List<ManifestEntry>> files = new HashMap<>();
        for (Row row : rows) {
            heads.putIfAbsent(row.id(), row);
            List<ManifestEntry> entries = files.computeIfAbsent(row.id(), id -> new ArrayList<>());
            if (row.file() != null) {
                entries.add(row.file());
            }
        }
        List<Version> versions = new ArrayList<>(heads.size());
        for (Row head : heads.values()) {
            versions.add(head.version(parentsOf(head.id()), List.copyOf(files.get(head.id()))));
        }
        return versions;
    }

    private List<Version.Parent> parentsOf(UUID id) {
        return db.list("SELECT p.parent_id, m.name, v.seq, p.parent_role FROM version_parent p"
                + " JOIN model_version v ON v.id = p.parent_id JOIN model m ON m.id = v.model_id"
                + " WHERE p.version_id = ? ORDER BY p.position",
                r -> new Version.Parent(r.getObject("parent_id", UUID.class), r.getString("name"), r.getInt("seq"),
                        ParentRole.valueOf(r.getString("parent_role"))), id);
    }

    /** One row of {@link #SELECT}: a version's columns and one of its files (null for a version without files). */
    private record Row(UUID id, UUID modelId, String model, int number, VersionState state, Operation operation,
            String recipe, String metrics, Instant createdAt, String reason, ManifestEntry file) {

        Version version(List<Version.Parent> parents, List<ManifestEntry> manifest) {
            return new Version(id, modelId, model, number, state, operation, recipe, metrics, parents, manifest,
                    createdAt, reason);
        }
    }

    private static Row row(ResultSet row) throws SQLException {
        String path = row.getString("path");
        ManifestEntry file = path == null ? null : new ManifestEntry(path, row.getString("sha256"),
                row.getLong("size_bytes"), row.getString("media_type"), row.getBoolean("present"));
        return new Row(row.getObject("id", UUID.class), row.getObject("model_id", UUID.class),
                row.getString("model_name"), row.getInt("seq"), VersionState.valueOf(row.getString("state")),
                Operation.valueOf(row.getString("operation")), row.getString("recipe"), row.getString("metrics"),
                Database.instant(row, "created_at"), row.getString("reason"), file);
    }
}
