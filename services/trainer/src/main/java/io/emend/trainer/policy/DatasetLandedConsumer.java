package io.emend.trainer.policy;

import io.emend.contracts.event.DatasetLanded;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.Topics;
import io.emend.trainer.TrainerConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
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
 * Consumes {@code emend.datasets} and hands each {@code io.emend.dataset.landed} to {@link DatasetIntake}, one at a
 * time on its own thread. Offsets are committed after the intake has recorded a batch, so a crash redelivers rather
 * than loses; the intake's dedupe by event id makes the redelivery harmless. A record that is not a valid event is
 * logged and skipped, so one bad message never blocks the topic.
 */
@ApplicationScoped
public class DatasetLandedConsumer {

    private static final Logger LOG = Logger.getLogger(DatasetLandedConsumer.class);

    private final TrainerConfig config;
    private final DatasetIntake intake;
    private final EventCodec codec = new EventCodec();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running;
    private Thread thread;

    DatasetLandedConsumer(TrainerConfig config, DatasetIntake intake) {
        this.config = config;
        this.intake = intake;
    }

    void start(@Observes StartupEvent started) {
        if (!config.datasets().enabled()) {
            return;
        }
        Properties settings = new Properties();
        settings.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.events().bootstrapServers());
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, config.datasets().groupId());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
        consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer());
        running = true;
        thread = new Thread(this::loop, "dataset-landed-consumer");
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
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        Duration timeout = config.datasets().pollTimeout();
        try (KafkaConsumer<String, byte[]> c = consumer) {
            c.subscribe(List.of(Topics.DATASETS));
            while (running) {
                var records = c.poll(timeout);
                for (ConsumerRecord<String, byte[]> record : records) {
                    handle(record);
                }
                if (!records.isEmpty()) {
                    c.commitSync();
                }
            }
        } catch (WakeupException e) {
            // stop() woke the poll: the loop ends
        } catch (RuntimeException e) {
            LOG.errorf(e, "the dataset.landed consumer stopped");
        }
    }

    private void handle(ConsumerRecord<String, byte[]> record) {
        Event<DatasetLanded> event;
        try {
            event = codec.decode(record.value(), DatasetLanded.class);
        } catch (RuntimeException e) {
            LOG.warnf("skipping record %d of %s: not a dataset.landed event (%s)", record.offset(), Topics.DATASETS,
                    e.getMessage());
            return;
        }
        if (!EventTypes.DATASET_LANDED.equals(event.type())) {
            return;
        }
        try {
            DatasetIntake.Outcome outcome = intake.landed(event.id(), event.data());
            LOG.infof("dataset.landed %s (%s for %s): %s", event.id(), event.data().dataset(), event.data().model(),
                    outcome);
        } catch (Exception e) {
            LOG.errorf(e, "dataset.landed %s could not be handled", event.id());
        }
    }
}
