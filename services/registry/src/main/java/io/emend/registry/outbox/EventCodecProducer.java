package io.emend.registry.outbox;

import io.emend.contracts.event.EventCodec;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** One thread-safe codec for the whole service. */
@ApplicationScoped
public class EventCodecProducer {

    @Produces
    @ApplicationScoped
    EventCodec codec() {
        return new EventCodec();
    }
}
