package io.emend.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerTest {

    @TempDir
    Path dir;

    @Test
    void recordsSurviveARestartOnTheSamePortAndDataDir() throws Exception {
        Path log = dir.resolve("logs/kafka.log");
        try (KafkaBroker broker = new KafkaBroker(KafkaBroker.Config.of(dir.resolve("kafka")).withLogFile(log))) {
            broker.start();
            assertTrue(Files.readString(log).contains("Kafka Server started"), "broker output goes to the log file");
            assertTrue(broker.isRunning());
            assertTrue(Files.exists(dir.resolve("kafka/kraft/meta.properties")), "storage formatted");
            String bootstrap = broker.bootstrapServers();
            long pid = broker.process().orElseThrow().pid();
            assertEquals(Set.of(pid), KafkaBroker.runningIn(dir.resolve("kafka")).stream()
                    .map(ProcessHandle::pid).collect(Collectors.toSet()));

            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("emend.test", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            produce(bootstrap, "emend.test", "m", "first");
            assertEquals(List.of("first"), consumeAll(bootstrap, "emend.test", 1));

            IOException twice = assertThrows(IOException.class,
                    () -> new KafkaBroker(KafkaBroker.Config.of(dir.resolve("kafka"))).start());
            assertTrue(twice.getMessage().contains("already uses"), twice.getMessage());

            broker.stop();
            assertFalse(broker.isRunning());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child JVM gone");
            assertTrue(KafkaBroker.runningIn(dir.resolve("kafka")).isEmpty());

            broker.start();
            assertEquals(bootstrap, broker.bootstrapServers(), "same port after restart");
            assertEquals(List.of("first"), consumeAll(bootstrap, "emend.test", 1));
            produce(bootstrap, "emend.test", "m", "second");
            assertEquals(List.of("first", "second"), consumeAll(bootstrap, "emend.test", 2));
            produce(bootstrap, "emend.created.on.first.use", "k", "v");
            assertEquals(List.of("v"), consumeAll(bootstrap, "emend.created.on.first.use", 1));

            // A crash: acknowledged records survive it, and the broker recovers its logs on the next start.
            broker.kill();
            assertFalse(broker.isRunning());
            broker.start();
            assertEquals(List.of("first", "second"), consumeAll(bootstrap, "emend.test", 2));
        }
    }

    @Test
    void aTakenPortIsReportedBeforeLaunching() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                KafkaBroker broker = new KafkaBroker(KafkaBroker.Config.of(dir.resolve("k"))
                        .withPort(taken.getLocalPort()))) {
            IOException e = assertThrows(IOException.class, broker::start);
            assertTrue(e.getMessage().contains("port 127.0.0.1:" + taken.getLocalPort() + " is already in use"),
                    e.getMessage());
            assertFalse(broker.isRunning());
        }
    }

    @Test
    void configRejectsNonsense() {
        var base = KafkaBroker.Config.of(dir);
        assertThrows(IllegalArgumentException.class, () -> base.withPort(70000));
        assertThrows(IllegalArgumentException.class, () -> base.withPort(9092).withControllerPort(9092));
        assertThrows(IllegalArgumentException.class, () -> base.withStartTimeout(Duration.ZERO));
        assertThrows(IllegalStateException.class, () -> new KafkaBroker(base).bootstrapServers());
    }

    private static void produce(String bootstrap, String topic, String key, String value) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        }
    }

    /** Reads partition 0 from the beginning until {@code expected} records arrived (or 30 s passed). */
    private static List<String> consumeAll(String bootstrap, String topic, int expected) {
        List<String> values = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }
}
