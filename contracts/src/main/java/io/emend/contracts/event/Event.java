package io.emend.contracts.event;

import java.net.URI;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;

/**
 * One Emend event: the CloudEvents 1.0 context attributes Emend uses and the typed data. Consumers deduplicate by
 * {@code id} (delivery is at least once).
 *
 * @param id unique per event; a redelivery carries the same id
 * @param source who produced it, e.g. {@link #REGISTRY}
 * @param type one of {@link EventTypes}
 * @param subject what it is about, e.g. {@code demo:3} or {@code demo@production}
 * @param time when it happened
 * @param data the payload; its class is the one {@link EventTypes#dataType} names for {@code type}
 */
public record Event<T extends EventData>(String id, URI source, String type, String subject, OffsetDateTime time,
        T data) {

    public static final URI REGISTRY = URI.create("/emend/registry");
    public static final URI TRAINER = URI.create("/emend/trainer");
    public static final URI EDITOR = URI.create("/emend/editor");
    public static final URI MERGER = URI.create("/emend/merger");

    public Event {
        Fields.requireText("id", id);
        Objects.requireNonNull(source, "source");
        Class<? extends EventData> expected = EventTypes.dataType(type).orElseThrow(() ->
                new IllegalArgumentException("unknown event type " + type + "; known: " + EventTypes.all()));
        Fields.requireText("subject", subject);
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(data, "data");
        if (!expected.isInstance(data)) {
            throw new IllegalArgumentException("data of " + type + " must be a " + expected.getSimpleName()
                    + ", was " + data.getClass().getSimpleName());
        }
    }

    /** A new event happening now, with a random id; the time is kept to the millisecond, as JSON carries it. */
    public static <T extends EventData> Event<T> of(URI source, String type, String subject, T data) {
        return new Event<>(UUID.randomUUID().toString(), source, type, subject,
                OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS), data);
    }

    /** The Kafka topic this event is published on. */
    public String topic() {
        return EventTypes.topic(type).orElseThrow();
    }

    /** The Kafka record key: the model's name. */
    public String key() {
        return data.model();
    }
}
