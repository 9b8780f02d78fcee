package io.emend.registry.outbox;

import io.emend.registry.database.Database;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** SQL for {@code outbox_event}. */
@ApplicationScoped
public class OutboxRepository {

    private final Database db;

    OutboxRepository(Database db) {
        this.db = db;
    }

    public void insert(UUID eventId, String topic, String key, String type, String payload, Instant at) {
        db.update("INSERT INTO outbox_event (event_id, topic, event_key, event_type, payload, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?)", eventId, topic, key, type, payload, at);
    }

    /** The oldest unsent events, in the order they must be published. */
    public List<OutboxEvent> unsent(int limit) {
        return db.list("SELECT seq, event_id, topic, event_key, event_type, payload, created_at FROM outbox_event"
                + " WHERE sent_at IS NULL ORDER BY seq FETCH FIRST ? ROWS ONLY",
                row -> new OutboxEvent(row.getLong("seq"), row.getObject("event_id", UUID.class),
                        row.getString("topic"), row.getString("event_key"), row.getString("event_type"),
                        row.getString("payload"), Database.instant(row, "created_at")), limit);
    }

    public void markSent(long seq, Instant at) {
        db.update("UPDATE outbox_event SET sent_at = ? WHERE seq = ?", at, seq);
    }

    public long countUnsent() {
        return db.count("SELECT COUNT(*) FROM outbox_event WHERE sent_at IS NULL");
    }
}
