package io.emend.editor.retention;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.Topics;
import io.emend.contracts.event.VersionEvent;
import io.emend.editor.EditorConfig;
import io.emend.editor.database.Database;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * Reads {@code emend.versions} and hands every {@code version.ready} of a version the editor did not make itself to
 * {@link RetentionCheck}. One thread, one event at a time, offsets committed after each handled batch; an event seen
 * before (same CloudEvent id, recorded in {@code handled_event}) is skipped, so a redelivery after a crash is not
 * measured twice. A check that fails is logged and not retried: the version simply has no retention figures.
 */
@ApplicationScoped
public class VersionEventsConsumer {

    private static final Logger LOG = Logger.getLogger(VersionEventsConsumer.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final EditorConfig.EditorEventsConfig config;
    private final RetentionCheck retention;
    private final Database db;
    private final EventCodec codec = new EventCodec();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running;
    private Thread thread;

    VersionEventsConsumer(EditorConfig config, RetentionCheck retention, Database db) {
        this.config = config.events();
        this.retention = retention;
        this.db = db;
    }

    void start(@Observes StartupEvent started) {
        if (!config.enabled()) {
            return;
        }
        Properties settings = new Properties();
        settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10);
        // a retention check loads a model: allow it far longer than Kafka's 5-minute default between polls
        settings.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) Duration.ofMinutes(30).toMillis());
        consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer());
        running = true;
        thread = new Thread(this::loop, "editor-version-events");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent stopping) {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(config.sendTimeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        try (KafkaConsumer<String, byte[]> c = consumer) {
            c.subscribe(List.of(Topics.VERSIONS));
            while (running) {
                for (ConsumerRecord<String, byte[]> record : c.poll(POLL)) {
                    handle(record.value());
                }
                c.commitSync();
            }
        } catch (WakeupException e) {
            // stop() woke the poll up
        } catch (RuntimeException e) {
            LOG.errorf(e, "the emend.versions consumer stopped; retention checks stop until the editor restarts");
        }
    }

    /** Checks one event's version, once. */
    void handle(byte[] bytes) {
        Event<VersionEvent> event;
        try {
            event = codec.decode(bytes, VersionEvent.class);
        } catch (RuntimeException e) {
            LOG.warnf("skipping an event on %s that is not a version event: %s", Topics.VERSIONS, e.getMessage());
            return;
        }
        VersionEvent v = event.data();
        if (!EventTypes.VERSION_READY.equals(event.type()) || "edit".equals(v.operation())
                || "import".equals(v.operation())) {
            return;
        }
        if (!db.query("SELECT 1 FROM handled_event WHERE id = ?", r -> 1, event.id()).isEmpty()) {
            return;
        }
        try {
            retention.check(v.model(), v.number());
        } catch (Exception e) {
            LOG.warnf(e, "retention check of %s:%d failed", v.model(), v.number());
        }
        db.update("INSERT INTO handled_event (id, handled_at) VALUES (?, ?)", event.id(), Instant.now());
    }
}
