package io.emend.contracts.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The samples under {@code src/test/resources/events/} are the wire contract: services' producer tests compare what
 * they publish with them and consumer tests feed them in. Here each sample must decode to the expected event, and
 * each expected event must encode to the sample.
 */
class EventCodecTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final EventCodec CODEC = new EventCodec();

    private static final String VERSION_ID = "0f9a3c52-6d8e-4f4b-a1c2-5e7d9b3f1a20";
    private static final URI TICKETS = URI.create("/emend/pipelines/tickets");

    private static final Map<String, Event<?>> EXPECTED = Map.ofEntries(
            sample("io.emend.version.created", new Event<>("7d6c1f0e-3b1a-4c55-9a57-0b7f0f3c2a11", Event.REGISTRY,
                    EventTypes.VERSION_CREATED, "demo:2", time("2025-06-01T09:30:00.125Z"),
                    new VersionEvent("demo", 2, VERSION_ID, "finetune", "pending"))),
            sample("io.emend.version.ready", new Event<>("8e7d2a1f-4c2b-4d66-8b68-1c8a1a4d3b22", Event.REGISTRY,
                    EventTypes.VERSION_READY, "demo:2", time("2025-06-01T09:41:12.500Z"),
                    new VersionEvent("demo", 2, VERSION_ID, "finetune", "ready"))),
            sample("io.emend.version.failed", new Event<>("9f8e3b2a-5d3c-4e77-9c79-2d9b2b5e4c33", Event.REGISTRY,
                    EventTypes.VERSION_FAILED, "demo:3", time("2025-06-01T10:02:00Z"),
                    new VersionEvent("demo", 3, "1a0b4d63-7e9f-4a5c-b2d3-6f8e0c4a2b31", "merge", "failed"))),
            sample("io.emend.alias.moved", new Event<>("a09f4c3b-6e4d-4f88-8d8a-3e0c3c6f5d44", Event.REGISTRY,
                    EventTypes.ALIAS_MOVED, "demo@production", time("2025-06-01T09:45:00Z"),
                    new AliasMoved("demo", "production", 2, 1))),
            sample("io.emend.alias.moved.first", new Event<>("b1a05d4c-7f5e-4a99-9e9b-4f1d4d7a6e55", Event.REGISTRY,
                    EventTypes.ALIAS_MOVED, "demo@staging", time("2025-06-01T08:00:00Z"),
                    new AliasMoved("demo", "staging", 1, null))),
            sample("io.emend.dataset.landed", new Event<>("c2b16e5d-8a6f-4baa-8fac-5a2e5e8b7f66", TICKETS,
                    EventTypes.DATASET_LANDED, "support-tickets/2025-06-01", time("2025-06-01T06:00:00Z"),
                    new DatasetLanded("demo", "support-tickets", "datasets/support-tickets/2025-06-01/", "jsonl",
                            List.of(new DatasetLanded.File("datasets/support-tickets/2025-06-01/part-0000.jsonl",
                                            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 48213),
                                    new DatasetLanded.File("datasets/support-tickets/2025-06-01/part-0001.jsonl",
                                            "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
                                            39904))))),
            job("queued", 0, "queued", 0.0, null),
            job("started", 1, "started", 0.0, "loading demo:1"),
            job("progress", 2, "running", 0.42, "step 420 of 1000, loss 1.873"),
            job("succeeded", 3, "succeeded", 1.0, "produced demo:2"),
            job("failed", 4, "failed", 0.37, "loss became NaN at step 370"),
            job("cancelled", 5, "cancelled", 0.1, "cancelled by alice"));

    static Stream<String> samples() {
        return EXPECTED.keySet().stream().sorted();
    }

    @ParameterizedTest
    @MethodSource("samples")
    void sampleDecodesToTheExpectedEvent(String name) throws IOException {
        assertEquals(EXPECTED.get(name), CODEC.decode(read(name)));
    }

    @ParameterizedTest
    @MethodSource("samples")
    void expectedEventEncodesToTheSample(String name) throws IOException {
        JsonNode encoded = JSON.readTree(CODEC.encode(EXPECTED.get(name)));
        assertEquals(withInstant(JSON.readTree(read(name))), withInstant(encoded));
        assertEquals("1.0", encoded.get("specversion").asText());
        assertTrue(encoded.get("data").isObject(), "data is a JSON object, not base64");
    }

    @Test
    void everyTypeHasASampleAndEverySampleIsChecked() throws IOException, URISyntaxException {
        Path dir = Path.of(EventCodecTest.class.getResource("/events").toURI());
        Set<String> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.map(p -> p.getFileName().toString().replaceFirst("\\.json$", ""))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(new TreeSet<>(EXPECTED.keySet()), files);
        Set<String> sampledTypes = EXPECTED.values().stream().map(Event::type).collect(Collectors.toSet());
        assertEquals(EventTypes.all(), sampledTypes);
    }

    @Test
    void topicsAndKeysFollowTheType() {
        assertEquals(Topics.VERSIONS, EXPECTED.get("io.emend.version.ready").topic());
        assertEquals(Topics.ALIASES, EXPECTED.get("io.emend.alias.moved").topic());
        assertEquals(Topics.DATASETS, EXPECTED.get("io.emend.dataset.landed").topic());
        assertEquals(Topics.JOBS, EXPECTED.get("io.emend.job.progress").topic());
        EXPECTED.values().forEach(event -> assertEquals("demo", event.key()));
    }

    @Test
    void newEventsRoundTrip() {
        Event<AliasMoved> moved = Event.of(Event.REGISTRY, EventTypes.ALIAS_MOVED, "demo@production",
                new AliasMoved("demo", "production", 7, 6));
        Event<AliasMoved> back = CODEC.decode(CODEC.encode(moved), AliasMoved.class);
        assertEquals(moved, back);
        assertEquals(6, back.data().previousVersion());
    }

    @Test
    void unknownDataFieldsAreIgnoredSoProducersCanAddThem() throws IOException {
        ObjectNode sample = (ObjectNode) JSON.readTree(read("io.emend.alias.moved"));
        ((ObjectNode) sample.get("data")).put("movedBy", "alice");
        Event<AliasMoved> event = CODEC.decode(JSON.writeValueAsBytes(sample), AliasMoved.class);
        assertEquals(EXPECTED.get("io.emend.alias.moved"), event);
    }

    @Test
    void aMissingPreviousVersionReadsAsNull() throws IOException {
        ObjectNode sample = (ObjectNode) JSON.readTree(read("io.emend.alias.moved.first"));
        ((ObjectNode) sample.get("data")).remove("previousVersion");
        assertNull(CODEC.decode(JSON.writeValueAsBytes(sample), AliasMoved.class).data().previousVersion());
    }

    @Test
    void notJson() {
        MalformedEventException e = assertThrows(MalformedEventException.class,
                () -> CODEC.decode("{not json".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("not a CloudEvents JSON event"), e.getMessage());
    }

    @Test
    void missingSpecVersion() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> e.remove("specversion")), "not a CloudEvents JSON event");
    }

    @Test
    void oldSpecVersion() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> e.put("specversion", "0.3")),
                "specversion must be 1.0, was 0.3");
    }

    @Test
    void unknownType() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> e.put("type", "io.emend.version.exploded")),
                "unknown event type io.emend.version.exploded");
    }

    @Test
    void wrongDataContentType() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> e.put("datacontenttype", "text/plain").put("data", "hi")),
                "datacontenttype must be application/json, was text/plain");
        // Object data under a non-JSON content type is already refused by the CloudEvents parser.
        assertMalformed(edit("io.emend.version.ready", e -> e.put("datacontenttype", "text/plain")),
                "not a CloudEvents JSON event");
    }

    @Test
    void missingData() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> e.remove("data")), "data is missing");
    }

    @Test
    void missingSubject() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> e.remove("subject")), "subject and time are required");
    }

    @Test
    void dataWithoutAModel() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> ((ObjectNode) e.get("data")).remove("model")),
                "model must not be empty");
    }

    @Test
    void dataWithAnImpossibleNumber() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> ((ObjectNode) e.get("data")).put("number", 0)),
                "number must be 1 or more, was 0");
    }

    @Test
    void dataWithAWrongFieldType() throws IOException {
        assertMalformed(edit("io.emend.version.ready", e -> ((ObjectNode) e.get("data")).put("number", "two")),
                "invalid data");
    }

    @Test
    void progressOutOfRange() throws IOException {
        assertMalformed(edit("io.emend.job.progress", e -> ((ObjectNode) e.get("data")).put("progress", 1.5)),
                "progress must be between 0 and 1, was 1.5");
    }

    @Test
    void datasetWithABadDigest() throws IOException {
        assertMalformed(edit("io.emend.dataset.landed", e -> ((ObjectNode) e.get("data").get("files").get(0))
                .put("sha256", "abc")), "files[].sha256 must be 64 lowercase hex digits");
    }

    @Test
    void anotherKindOfEventThanExpected() throws IOException {
        byte[] versionEvent = read("io.emend.version.ready");
        MalformedEventException e = assertThrows(MalformedEventException.class,
                () -> CODEC.decode(versionEvent, AliasMoved.class));
        assertTrue(e.getMessage().contains("expected an event carrying AliasMoved, got io.emend.version.ready"),
                e.getMessage());
    }

    @Test
    void eventsRefuseDataOfAnotherType() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Event.of(Event.REGISTRY,
                EventTypes.VERSION_READY, "demo@production", new AliasMoved("demo", "production", 2, 1)));
        assertTrue(e.getMessage().contains("must be a VersionEvent"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Event.of(Event.REGISTRY, "io.emend.nothing", "s",
                new AliasMoved("demo", "production", 2, 1)));
    }

    private static void assertMalformed(byte[] json, String expected) {
        MalformedEventException e = assertThrows(MalformedEventException.class, () -> CODEC.decode(json));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private interface Edit {
        void apply(ObjectNode event);
    }

    private static byte[] edit(String name, Edit edit) throws IOException {
        ObjectNode event = (ObjectNode) JSON.readTree(read(name));
        edit.apply(event);
        return JSON.writeValueAsBytes(event);
    }

    /** Times are compared as instants: "10:02:00Z" and "10:02Z" are the same moment. */
    private static JsonNode withInstant(JsonNode event) {
        ObjectNode copy = event.deepCopy();
        copy.put("time", OffsetDateTime.parse(copy.get("time").asText()).toInstant().toString());
        return copy;
    }

    private static byte[] read(String name) throws IOException {
        try (var in = EventCodecTest.class.getResourceAsStream("/events/" + name + ".json")) {
            if (in == null) {
                throw new IOException("missing sample events/" + name + ".json");
            }
            return in.readAllBytes();
        }
    }

    private static OffsetDateTime time(String text) {
        return OffsetDateTime.parse(text);
    }

    private static Map.Entry<String, Event<?>> sample(String name, Event<?> event) {
        return Map.entry(name, event);
    }

    private static Map.Entry<String, Event<?>> job(String type, int index, String state, double progress,
            String message) {
        return sample("io.emend.job." + type, new Event<>("d3c27f6e-9b7a-4cbb-9abd-6b3f6f9c8a" + (70 + index),
                URI.create("/emend/trainer"), "io.emend.job." + type, "job-5b1e",
                time("2025-06-01T07:%02d:00Z".formatted(10 + index)),
                new JobEvent("job-5b1e", "finetune", "demo", state, progress, message)));
    }
}
