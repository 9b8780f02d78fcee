package io.emend.serving.swap;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.MalformedEventException;
import io.emend.contracts.event.Topics;
import io.emend.serving.ServingConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * Reads {@code emend.aliases} and hands each {@code alias.moved} to the {@link SwapController}. Every replica uses a
 * consumer group of its own, so every replica sees every move (a shared group would give each move to one replica
 * only). A fresh group starts at the end of the topic; what moved before is caught up by re-resolving the served
 * aliases once partitions are assigned.
 */
@ApplicationScoped
public class AliasMovedConsumer {

    private static final Logger LOG = Logger.getLogger(AliasMovedConsumer.class);

    private final ServingConfig config;
    private final SwapController swaps;
    private final EventCodec codec = new EventCodec();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread thread;
    private volatile boolean assigned;

    public AliasMovedConsumer(ServingConfig config, SwapController swaps) {
        this.config = config;
        this.swaps = swaps;
    }

    void start(@Observes StartupEvent event) {
        if (config.standalone().modelDir().isPresent() || config.aliases().bootstrapServers().isEmpty()) {
            LOG.info("alias moves are not followed (standalone, or emend.serving.aliases.bootstrap-servers unset)");
            return;
        }
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.aliases().bootstrapServers().get());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.aliases().groupId()
                .orElse("emend-serving-" + UUID.randomUUID()));
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer = new KafkaConsumer<>(p);
        thread = Thread.ofPlatform().name("alias-consumer").daemon().start(this::run);
    }

    /** Whether the consumer holds its partitions (moves published from now on reach this replica). */
    public boolean assigned() {
        return assigned;
    }

    private void run() {
        try {
            consumer.subscribe(List.of(Topics.ALIASES), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    assigned = false;
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assigned = true;
                    swaps.catchUp();
                }
            });
            while (true) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                    handle(record);
                }
            }
        } catch (WakeupException e) {
            LOG.debug("alias consumer stopping");
        } catch (RuntimeException e) {
            LOG.error("the alias consumer stopped; alias moves are no longer followed", e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void handle(ConsumerRecord<String, byte[]> record) {
        Event<?> event;
        try {
            event = codec.decode(record.value());
        } catch (MalformedEventException e) {
            LOG.warnf("skipping a malformed event at %s-%d@%d: %s", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            return;
        }
        if (!EventTypes.ALIAS_MOVED.equals(event.type())) {
            return;
        }
        @SuppressWarnings("unchecked") // the type says so, and the codec checked the data's class against it
        Event<AliasMoved> moved = (Event<AliasMoved>) event;
        swaps.onAliasMoved(moved);
    }

    void stop(@Observes ShutdownEvent event) {
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
            try {
                thread.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
