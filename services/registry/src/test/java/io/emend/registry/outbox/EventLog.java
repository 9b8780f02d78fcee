package io.emend.registry.outbox;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a topic from the beginning, the way a consumer of the registry's events would, keeping one model's records. */
public final class EventLog {

    private static final EventCodec CODEC = new EventCodec();

    private EventLog() {
    }

    /** A record as it arrived: key, content-type header and the decoded CloudEvent. */
    public record Received(String key, String contentType, Event<?> event) {
    }

    /**
     * Every record of {@code topic} keyed {@code model}, in partition order, once {@code done} holds for them (or
     * {@code timeout} passes); then it keeps reading for {@code settle} so that extra records would show up too.
     */
    public static List<Received> read(String bootstrap, String topic, String model, Predicate<List<Received>> done,
            Duration timeout, Duration settle) {
        Properties settings = new Properties();
        settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<Received> received = new ArrayList<>();
            long deadline = System.nanoTime() + timeout.toNanos();
            long settleUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settleUntil)) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (model.equals(record.key())) {
                        var header = record.headers().lastHeader("content-type");
                        received.add(new Received(record.key(), header == null ? null : new String(header.value()),
                                CODEC.decode(record.value())));
                    }
                }
                if (settleUntil == Long.MAX_VALUE && done.test(received)) {
                    settleUntil = System.nanoTime() + settle.toNanos();
                }
            }
            return received;
        }
    }

    /** The events in arrival order with redeliveries (same id) dropped, as an idempotent consumer sees them. */
    public static List<Event<?>> deduplicated(List<Received> received) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        return received.stream().map(Received::event).filter(e -> seen.add(e.id())).toList();
    }
}
