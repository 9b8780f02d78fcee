package io.emend.registry.outbox;

import static io.emend.registry.Registry.as;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.Topics;
import io.emend.contracts.event.VersionEvent;
import io.emend.registry.KafkaBrokerResource.InjectKafkaBroker;
import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.emend.stack.KafkaBroker;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The events a consumer reads from the real broker, and what happens to them while the broker is away. */
@QuarkusTest
class OutboxRelayTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration SETTLE = Duration.ofSeconds(1);

    @InjectKafkaBroker
    KafkaBroker broker;

    @Inject
    OutboxRepository outbox;

    @Test
    void publishesExactlyTheEventsOfAVersionsLifeAndAnAliasMove() throws Exception {
        String model = Registry.createModel("events");
        byte[] weights = "weights".getBytes();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(weights));
        int number = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(Map.of("path", "model.safetensors", "sha256", sha, "size", weights.length))));
        as(Tokens.writer()).header("X-Emend-Sha256", sha).contentType("application/octet-stream").body(weights)
                .put("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(201);
        Registry.ready(model, number);
        Registry.moveAlias(model, "production", number);
        String id = as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, number).then().extract().path("id");

        List<EventLog.Received> versions = EventLog.read(broker.bootstrapServers(), Topics.VERSIONS, model,
                r -> r.size() >= 2, WAIT, SETTLE);
        assertEquals(List.of(EventTypes.VERSION_CREATED, EventTypes.VERSION_READY),
                versions.stream().map(r -> r.event().type()).toList());
        assertEquals(new VersionEvent(model, number, id, "import", "pending"), versions.get(0).event().data());
        assertEquals(new VersionEvent(model, number, id, "import", "ready"), versions.get(1).event().data());
        for (EventLog.Received received : versions) {
            assertEquals(model, received.key());
            assertEquals(EventCodec.CONTENT_TYPE, received.contentType());
            assertEquals(Event.REGISTRY, received.event().source());
            assertEquals(model + ":" + number, received.event().subject());
        }

        List<EventLog.Received> aliases = EventLog.read(broker.bootstrapServers(), Topics.ALIASES, model,
                r -> !r.isEmpty(), WAIT, SETTLE);
        assertEquals(1, aliases.size(), "exactly one alias event: " + aliases);
        assertEquals(EventTypes.ALIAS_MOVED, aliases.get(0).event().type());
        assertEquals(new AliasMoved(model, "production", number, null), aliases.get(0).event().data());
        assertEquals(model + "@production", aliases.get(0).event().subject());
    }

    @Test
    void keepsOneModelsEventsInTheOrderTheyHappened() {
        String model = Registry.createModel("ordered");
        int count = 8;
        for (int i = 1; i <= count; i++) {
            Registry.readyImport(model);
            Registry.moveAlias(model, "production", i);
        }
        as(Tokens.admin()).post("/v1/models/{m}/aliases/production/rollback", model).then().statusCode(200);

        List<Event<?>> moves = EventLog.deduplicated(EventLog.read(broker.bootstrapServers(), Topics.ALIASES, model,
                r -> r.size() >= count + 1, WAIT, SETTLE));
        List<AliasMoved> expected = new java.util.ArrayList<>(IntStream.rangeClosed(1, count)
                .mapToObj(i -> new AliasMoved(model, "production", i, i == 1 ? null : i - 1)).toList());
        expected.add(new AliasMoved(model, "production", count - 1, count));
        assertEquals(expected, moves.stream().map(Event::data).toList());

        List<Event<?>> versions = EventLog.deduplicated(EventLog.read(broker.bootstrapServers(), Topics.VERSIONS,
                model, r -> r.size() >= 2 * count, WAIT, SETTLE));
        assertEquals(2 * count, versions.size());
        for (int i = 0; i < count; i++) {
            assertEquals(EventTypes.VERSION_CREATED, versions.get(2 * i).type());
            assertEquals(EventTypes.VERSION_READY, versions.get(2 * i + 1).type());
            assertEquals(i + 1, ((VersionEvent) versions.get(2 * i).data()).number());
        }
    }

    /** The relay keeps the events while the broker is down and sends them, in order, once it is back. */
    @Test
    void delaysEventsWhileTheBrokerIsDownAndResumesByItself() throws Exception {
        String model = Registry.createModel("outage");
        broker.stop();
        try {
            int number = Registry.readyImport(model);
            Registry.moveAlias(model, "production", number);
            Thread.sleep(4_000);
            assertTrue(outbox.countUnsent() >= 3, "events wait in the outbox while the broker is down");
        } finally {
            broker.start();
        }
        List<Event<?>> versions = EventLog.deduplicated(EventLog.read(broker.bootstrapServers(), Topics.VERSIONS,
                model, r -> r.size() >= 2, WAIT, SETTLE));
        assertEquals(List.of(EventTypes.VERSION_CREATED, EventTypes.VERSION_READY),
                versions.stream().map(Event::type).toList());
        List<Event<?>> aliases = EventLog.deduplicated(EventLog.read(broker.bootstrapServers(), Topics.ALIASES,
                model, r -> !r.isEmpty(), WAIT, SETTLE));
        assertEquals(List.of(new AliasMoved(model, "production", 1, null)),
                aliases.stream().map(Event::data).toList());
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (outbox.countUnsent() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(0, outbox.countUnsent(), "every row is marked sent once the broker is back");
    }
}
