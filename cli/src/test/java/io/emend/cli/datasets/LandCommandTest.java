package io.emend.cli.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import io.emend.cli.Workspace;
import io.emend.cli.stack.Component;
import io.emend.cli.stack.RunState;
import io.emend.cli.stack.StackPorts;
import io.emend.contracts.event.DatasetLanded;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.Topics;
import io.emend.stack.KafkaBroker;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code datasets land} against a real Kafka broker recorded under {@code run/} the way {@code up} records it, and the
 * real filesystem object store: what lands is read back from both.
 */
class LandCommandTest {

    @TempDir
    static Path data;

    @TempDir
    Path files;

    private static KafkaBroker broker;
    private static StackPorts ports;

    @BeforeAll
    static void startBroker() throws IOException {
        ports = freePorts();
        broker = new KafkaBroker(KafkaBroker.Config.of(data.resolve("kafka"))
                .withPort(ports.port(Component.KAFKA)).withControllerPort(ports.kafkaController())
                .withLogFile(data.resolve("logs/kafka.log")));
        broker.start();
        RunState.write(new Workspace(data, data), ports, Map.of(Component.KAFKA, broker.process().orElseThrow()));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.stop();
        }
    }

    private EmendRun land(Path dataDir, String... args) {
        List<String> all = new ArrayList<>(List.of("datasets", "land"));
        all.addAll(List.of(args));
        all.addAll(List.of("--data-dir", dataDir.toString()));
        return EmendRun.of(all.toArray(String[]::new));
    }

    private Path jsonl(String name, String... texts) throws IOException {
        StringBuilder lines = new StringBuilder();
        for (String t : texts) {
            lines.append("{\"text\": \"").append(t).append("\"}\n");
        }
        return Files.writeString(files.resolve(name), lines);
    }

    @Test
    void copiesTheFilesAndPublishesOneLandedEventKeyedByTheModel() throws Exception {
        Path first = jsonl("a.jsonl", "Tom saw a red ball.", "The cat sat on the mat.");
        Path second = jsonl("b.jsonl", "Sue had a big dog.");

        EmendRun run = land(data, "--model", "demo", "--dataset", "stories", first.toString(), second.toString(), "--json");

        assertEquals(0, run.exitCode(), run.toString());
        JsonNode printed = new ObjectMapper().readTree(run.out());
        String prefix = printed.path("prefix").asText();
        assertTrue(prefix.matches("datasets/stories/\\d{8}T\\d{9}Z/"), prefix);
        assertEquals(EventTypes.DATASET_LANDED, printed.path("type").asText());
        assertEquals(Topics.DATASETS, printed.path("topic").asText());
        assertEquals("demo", printed.path("key").asText());

        ConsumerRecord<String, byte[]> record = only(landedRecords(printed.path("id").asText()));
        assertEquals("demo", record.key());
        Event<DatasetLanded> event = new EventCodec().decode(record.value(), DatasetLanded.class);
        assertEquals("demo", event.data().model());
        assertEquals("stories", event.data().dataset());
        assertEquals(prefix, event.data().prefix());
        assertEquals("jsonl", event.data().format());
        assertEquals(List.of(prefix + "a.jsonl", prefix + "b.jsonl"),
                event.data().files().stream().map(DatasetLanded.File::key).toList());
        for (DatasetLanded.File f : event.data().files()) {
            Path source = files.resolve(f.key().substring(prefix.length()));
            Path stored = data.resolve("objects").resolve(f.key());
            assertArrayEquals(Files.readAllBytes(source), Files.readAllBytes(stored), f.key());
            assertEquals(sha256(source), f.sha256());
            assertEquals(Files.size(source), f.size());
        }
        assertEquals(printed.path("files").get(1).path("sha256").asText(), sha256(second));
    }

    @Test
    void thePlainOutputNamesTheEventAndEveryKey() throws Exception {
        Path file = jsonl("train.jsonl", "Once upon a time there was a frog.");
        EmendRun run = land(data, "--model", "demo", "--dataset", "frogs", file.toString());
        assertEquals(0, run.exitCode(), run.toString());
        String id = run.out().lines().findFirst().orElseThrow().split(" ")[1];
        assertTrue(run.out().startsWith("event " + id + " (io.emend.dataset.landed) on emend.datasets, key demo"), run.out());
        String digest = sha256(file);
        assertTrue(run.out().lines().anyMatch(l -> l.matches("datasets/frogs/\\S+/train\\.jsonl +" + digest + " +\\d+")),
                run.out());
        assertEquals(1, landedRecords(id).size());
    }

    @Test
    void aMissingFileLandsNothing() throws Exception {
        Path present = jsonl("ok.jsonl", "A line.");
        EmendRun run = land(data, "--model", "demo", "--dataset", "missing", present.toString(),
                files.resolve("absent.jsonl").toString());
        assertEquals(2, run.exitCode(), run.toString());
        assertEquals(1, run.errorLines().size(), run.err());
        assertTrue(run.err().contains("absent.jsonl: no such file"), run.err());
        assertFalse(Files.exists(data.resolve("objects/datasets/missing")), "nothing copied");
    }

    @Test
    void badNamesAndNonJsonlFilesAreUsageErrors() throws Exception {
        Path file = jsonl("ok.jsonl", "A line.");
        EmendRun slash = land(data, "--model", "demo", "--dataset", "a/b", file.toString());
        assertEquals(2, slash.exitCode(), slash.toString());
        assertTrue(slash.err().contains("--dataset 'a/b' is not a valid name"), slash.err());

        EmendRun model = land(data, "--model", "", "--dataset", "fine", file.toString());
        assertEquals(2, model.exitCode(), model.toString());
        assertTrue(model.err().contains("--model '' is not a valid name"), model.err());

        Path csv = Files.writeString(files.resolve("rows.csv"), "a,b\n");
        EmendRun notJsonl = land(data, "--model", "demo", "--dataset", "fine", csv.toString());
        assertEquals(2, notJsonl.exitCode(), notJsonl.toString());
        assertTrue(notJsonl.err().contains("rows.csv: the trainer reads JSONL"), notJsonl.err());

        EmendRun none = land(data, "--model", "demo", "--dataset", "fine");
        assertEquals(2, none.exitCode(), none.toString());
        assertFalse(Files.exists(data.resolve("objects/datasets/fine")), "nothing copied");
    }

    @Test
    void withoutARunningStackItSaysHowToStartOne(@TempDir Path empty) throws Exception {
        Path file = jsonl("ok.jsonl", "A line.");
        EmendRun run = land(empty, "--model", "demo", "--dataset", "x", file.toString());
        assertEquals(1, run.exitCode(), run.toString());
        assertEquals(List.of("emend datasets land: no stack is running in " + empty.toRealPath()
                + "; start it with ./emend up --detach"), run.errorLines());

        // a stack recorded, but its broker is gone (killed, or the machine rebooted)
        RunState.write(new Workspace(empty, empty), freePorts(), Map.of());
        EmendRun down = land(empty, "--model", "demo", "--dataset", "x", file.toString());
        assertEquals(1, down.exitCode(), down.toString());
        assertTrue(down.err().contains("does not answer on port"), down.err());
        assertFalse(Files.exists(empty.resolve("objects/datasets")), "nothing copied");
    }

    /** Every record on {@code emend.datasets} whose event id is {@code id}. */
    private static List<ConsumerRecord<String, byte[]>> landedRecords(String id) {
        Map<String, Object> settings = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "land-test-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        EventCodec codec = new EventCodec();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.DATASETS));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int quietPolls = 0;
            while (System.nanoTime() < deadline && (found.isEmpty() || quietPolls < 2)) {
                var records = consumer.poll(Duration.ofMillis(500));
                quietPolls = records.isEmpty() ? quietPolls + 1 : 0;
                for (ConsumerRecord<String, byte[]> r : records) {
                    if (codec.decode(r.value()).id().equals(id)) {
                        found.add(r);
                    }
                }
            }
        }
        return found;
    }

    private static <T> T only(List<T> items) {
        assertEquals(1, items.size(), items.toString());
        return items.getFirst();
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    /** A base port whose Kafka and controller ports are free now. */
    private static StackPorts freePorts() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int kafka;
            try (ServerSocket s = new ServerSocket(0)) {
                kafka = s.getLocalPort();
            }
            int base = kafka - 1012;
            if (base >= 1024 && kafka + 1 <= 65535 && free(kafka + 1)) {
                return new StackPorts(base);
            }
        }
        throw new IllegalStateException("no free ports for the test broker");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
