package io.emend.registry.outbox;

import java.time.Instant;
import java.util.UUID;

/**
 * An event waiting in the outbox: the Kafka topic and key it goes to and its encoded CloudEvent. {@code seq} orders
 * publication; it is assigned by the database when the row is written.
 */
public record OutboxEvent(long seq, UUID eventId, String topic, String key, String type, String payload,
        Instant createdAt) {
}
