package io.emend.registry.outbox;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Appends events to the outbox. It must run inside the transaction of the change the event describes
 * ({@link Transactional.TxType#MANDATORY}): the event exists exactly when the change does, and {@link OutboxRelay}
 * publishes it later, however long Kafka is away.
 */
@ApplicationScoped
public class Outbox {

    private final OutboxRepository rows;
    private final EventCodec codec;

    Outbox(OutboxRepository rows, EventCodec codec) {
        this.rows = rows;
        this.codec = codec;
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void append(Event<?> event) {
        rows.insert(UUID.fromString(event.id()), event.topic(), event.key(), event.type(),
                new String(codec.encode(event), StandardCharsets.UTF_8), event.time().toInstant());
    }
}
