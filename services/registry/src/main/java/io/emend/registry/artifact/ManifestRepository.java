package io.emend.registry.artifact;

import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;

/** SQL for {@code manifest_entry}: the files each version consists of. */
@ApplicationScoped
public class ManifestRepository {

    private final Database db;

    ManifestRepository(Database db) {
        this.db = db;
    }

    public void insert(UUID versionId, ManifestEntry entry) {
        db.update("INSERT INTO manifest_entry (version_id, path, sha256, size_bytes, media_type, present)"
                + " VALUES (?, ?, ?, ?, ?, ?)", versionId, entry.path(), entry.sha256(), entry.size(), entry.mediaType(),
                entry.present());
    }

    public Optional<ManifestEntry> find(UUID versionId, String path) {
        return db.one("SELECT path, sha256, size_bytes, media_type, present FROM manifest_entry"
                + " WHERE version_id = ? AND path = ?", ManifestRepository::map, versionId, path);
    }

    public void markPresent(UUID versionId, String path) {
        db.update("UPDATE manifest_entry SET present = TRUE WHERE version_id = ? AND path = ?", versionId, path);
    }

    /** Whether any version lists a verified file with this digest. */
    public boolean anyPresent(String sha256) {
        return db.count("SELECT COUNT(*) FROM manifest_entry WHERE sha256 = ? AND present = TRUE", sha256) > 0;
    }

    private static ManifestEntry map(ResultSet row) throws SQLException {
        return new ManifestEntry(row.getString("path"), row.getString("sha256"), row.getLong("size_bytes"),
                row.getString("media_type"), row.getBoolean("present"));
    }
}
