package io.emend.registry.outbox;

import io.emend.contracts.event.EventCodec;
import io.emend.registry.RegistryConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * Publishes outbox rows to Kafka, oldest first, and marks each sent once the broker has acknowledged it. Delivery is
 * at least once: a crash between the acknowledgement and the mark sends the row again, with the same event id, and
 * consumers deduplicate.
 *
 * <p>Order per model is kept without trusting the producer's retry behaviour across failures: within one scan, the
 * next event of a model is sent only after the previous one was acknowledged ("waves" of at most one event per
 * model), and a model whose event failed gets nothing more until the next scan retries from that event. Different
 * models proceed in parallel. When Kafka is away the relay backs off exponentially up to
 * {@code emend.registry.relay.max-backoff} and keeps trying forever; the rows wait in the table.
 *
 * <p>One relay should run per database: on extra replicas set {@code emend.registry.relay.enabled=false}.
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

    private final OutboxRepository rows;
    private final RegistryConfig.RelayConfig config;
    private volatile boolean running;
    private Thread worker;
    private KafkaProducer<String, byte[]> producer;

    OutboxRelay(OutboxRepository rows, RegistryConfig config) {
        this.rows = rows;
        this.config = config.relay();
    }

    void start(@Observes StartupEvent startup) {
        if (!config.enabled()) {
            LOG.info("outbox relay disabled (emend.registry.relay.enabled=false); events stay in the outbox");
            return;
        }
        running = true;
        worker = Thread.ofPlatform().name("outbox-relay").daemon().start(this::run);
    }

    void stop(@Observes ShutdownEvent shutdown) throws InterruptedException {
        running = false;
        if (worker != null) {
            worker.interrupt();
            worker.join(config.sendTimeout().toMillis() + 1000);
        }
    }

    private void run() {
        Duration backoff = config.pollInterval();
        while (running) {
            try {
                int published = relayOnce();
                backoff = config.pollInterval();
                if (published == 0) {
                    Thread.sleep(config.pollInterval());
                }
            } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | ExecutionException | TimeoutException e) {
                LOG.warnf("outbox relay could not publish (%s); %d events waiting, retrying in %d ms",
                        rootMessage(e), safeCountUnsent(), backoff.toMillis());
                closeProducer();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    break;
                }
                backoff = min(backoff.multipliedBy(2), config.maxBackoff());
            }
        }
        closeProducer();
    }

    /**
     * Publishes one batch of unsent rows and returns how many were acknowledged. Throws after marking what did go
     * out when any row failed, so the caller backs off.
     */
    int relayOnce() throws InterruptedException, ExecutionException, TimeoutException {
        List<OutboxEvent> batch = rows.unsent(config.batchSize());
        if (batch.isEmpty()) {
            return 0;
        }
        Map<String, Deque<OutboxEvent>> byModel = new LinkedHashMap<>();
        for (OutboxEvent event : batch) {
            byModel.computeIfAbsent(event.key(), key -> new ArrayDeque<>()).add(event);
        }
        KafkaProducer<String, byte[]> kafka = producer();
        int published = 0;
        Exception failure = null;
        while (!byModel.isEmpty()) {
            List<OutboxEvent> wave = new ArrayList<>();
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (Deque<OutboxEvent> events : byModel.values()) {
                OutboxEvent event = events.peek();
                wave.add(event);
                acks.add(kafka.send(record(event)));
            }
            kafka.flush();
            for (int i = 0; i < wave.size(); i++) {
                OutboxEvent event = wave.get(i);
                try {
                    acks.get(i).get(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    rows.markSent(event.seq(), Instant.now());
                    published++;
                    Deque<OutboxEvent> rest = byModel.get(event.key());
                    rest.poll();
                    if (rest.isEmpty()) {
                        byModel.remove(event.key());
                    }
                } catch (ExecutionException | TimeoutException e) {
                    failure = e;
                    byModel.remove(event.key());
                }
            }
        }
        if (failure instanceof ExecutionException e) {
            throw e;
        }
        if (failure instanceof TimeoutException e) {
            throw e;
        }
        return published;
    }

    private static ProducerRecord<String, byte[]> record(OutboxEvent event) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(event.topic(), event.key(),
                event.payload().getBytes(StandardCharsets.UTF_8));
        record.headers().add("content-type", EventCodec.CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            Properties settings = new Properties();
            int timeout = (int) config.sendTimeout().toMillis();
            settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            settings.put(ProducerConfig.ACKS_CONFIG, "all");
            settings.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
            settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout);
            settings.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout);
            settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeout);
            settings.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            settings.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
            settings.put(ProducerConfig.CLIENT_ID_CONFIG, "emend-registry-outbox");
            producer = new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    /** A failed producer is dropped: the next attempt starts clean, resending from the first unacknowledged row. */
    private void closeProducer() {
        if (producer != null) {
            try {
                producer.close(Duration.ZERO);
            } catch (org.apache.kafka.common.errors.InterruptException stopping) {
                Thread.currentThread().interrupt();
            }
            producer = null;
        }
    }

    private long safeCountUnsent() {
        try {
            return rows.countUnsent();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
