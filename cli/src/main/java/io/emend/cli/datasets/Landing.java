package io.emend.cli.datasets;

import io.emend.contracts.event.DatasetLanded;
import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.store.ObjectStore;
import io.emend.contracts.store.StoredObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Lands a delivery of JSONL files the way a data pipeline would: copies them into the object store under
 * {@code datasets/<dataset>/<timestamp>/}, then announces them with one {@code io.emend.dataset.landed} CloudEvent on
 * {@code emend.datasets}, keyed by the model, so the trainer's retraining policies see it. The files' contents are not
 * parsed here: the trainer checks every line against the model's tokenizer and reports a bad one on the job it makes.
 */
public final class Landing {

    /** Who the event says produced it. */
    public static final URI SOURCE = URI.create("/emend/cli");

    /** One path segment: it becomes part of the object key, so no slashes and no dot-only names. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Sortable, to the millisecond, and free of characters some filesystems or S3 tools dislike (colons). */
    private static final DateTimeFormatter DELIVERY = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssSSS'Z'")
            .withZone(ZoneOffset.UTC);
    /** The broker is local: anything slower than this means it is not answering. */
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(15);

    private final ObjectStore store;
    private final String bootstrapServers;
    private final Clock clock;
    private final EventCodec codec = new EventCodec();

    public Landing(ObjectStore store, String bootstrapServers, Clock clock) {
        this.store = store;
        this.bootstrapServers = bootstrapServers;
        this.clock = clock;
    }

    /** What was landed: the event as published and where the files went. */
    public record Landed(Event<DatasetLanded> event) {
        public String prefix() {
            return event.data().prefix();
        }

        public List<DatasetLanded.File> files() {
            return event.data().files();
        }
    }

    /**
     * Checks the names and files, copies the files and publishes the event; when publishing fails the copies are
     * removed again, so the store never holds a delivery nobody was told about.
     *
     * @throws IllegalArgumentException naming the bad model, dataset or file
     * @throws IOException when the store or the broker fails, saying which
     */
    public Landed land(String model, String dataset, List<Path> files) throws IOException {
        checkName("model", model);
        checkName("dataset", dataset);
        checkFiles(files);
        String prefix = "datasets/" + dataset + "/" + DELIVERY.format(clock.instant()) + "/";
        if (!store.list(prefix).isEmpty()) {
            throw new IllegalStateException("a delivery " + prefix + " already exists; land again");
        }
        List<DatasetLanded.File> stored = new ArrayList<>();
        try {
            for (Path file : files) {
                try (InputStream in = Files.newInputStream(file)) {
                    StoredObject object = store.put(prefix + file.getFileName(), in, Optional.empty());
                    stored.add(new DatasetLanded.File(object.key(), object.sha256().orElseThrow(), object.size()));
                }
            }
            Event<DatasetLanded> event = Event.of(SOURCE, EventTypes.DATASET_LANDED, model + "/" + dataset,
                    new DatasetLanded(model, dataset, prefix, "jsonl", stored));
            publish(event);
            return new Landed(event);
        } catch (IOException | RuntimeException e) {
            for (DatasetLanded.File f : stored) {
                store.delete(f.key());
            }
            throw e;
        }
    }

    private void publish(Event<DatasetLanded> event) throws IOException {
        Map<String, Object> settings = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) SEND_TIMEOUT.toMillis(),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) SEND_TIMEOUT.toMillis() / 3,
                ProducerConfig.LINGER_MS_CONFIG, 0);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(settings, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(event.topic(), event.key(), codec.encode(event)))
                    .get(SEND_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | org.apache.kafka.common.KafkaException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IOException("Kafka at " + bootstrapServers + " did not take the event (" + cause.getMessage()
                    + "); is the stack up? (./emend status)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while publishing to Kafka at " + bootstrapServers, e);
        }
    }

    private static void checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("--" + what + " '" + name + "' is not a valid name: letters, digits,"
                    + " '.', '_' and '-', starting with a letter or digit, at most 128 characters");
        }
    }

    private static void checkFiles(List<Path> files) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("name at least one FILE.jsonl to land");
        }
        Set<String> names = new HashSet<>();
        for (Path file : files) {
            if (!Files.exists(file)) {
                throw new IllegalArgumentException(file + ": no such file");
            }
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new IllegalArgumentException(file + ": not a readable file");
            }
            String name = file.getFileName().toString();
            if (!name.endsWith(".jsonl") || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(file + ": the trainer reads JSONL; name the file like train.jsonl"
                        + " (letters, digits, '.', '_', '-')");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException(file + ": two files named " + name + " would land on one key");
            }
        }
    }
}
