package io.emend.registry.imports;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emend.contracts.store.ObjectStore;
import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

@QuarkusTest
class ImportResourceTest {

    private static final Path FIXTURES = Path.of(System.getProperty("emend.fixtures"));

    @Inject
    ObjectStore store;

    private Path temp;

    @BeforeEach
    void makeTemp() throws IOException {
        temp = Files.createTempDirectory("emend-import-test");
    }

    @AfterEach
    void dropTemp() throws IOException {
        try (var walk = Files.walk(temp)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void importsAHuggingFaceDirectoryAsAReadyVersionWithAnAlias() throws Exception {
        String model = Registry.uniqueName("stories");
        Path dir = FIXTURES.resolve("stories260k");
        as(Tokens.admin()).body(Map.of("path", dir.toString(), "description", "TinyStories 260K", "alias", "production"))
                .post("/v1/models/{m}/imports", model)
                .then().statusCode(201)
                .header("Location", startsWith("http"))
                .body("number", equalTo(1), "state", equalTo("ready"), "operation", equalTo("import"),
                        "recipe.modelType", equalTo("llama"),
                        "manifest.path", hasItems("config.json", "tokenizer.json", "model.safetensors"),
                        "manifest.present", everyItem(equalTo(true)));
        as(Tokens.reader()).get("/v1/models/{m}", model).then().statusCode(200)
                .body("family", equalTo("llama"), "description", equalTo("TinyStories 260K"));
        as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(200)
                .body("number", equalTo(1));
        byte[] config = as(Tokens.reader()).get("/v1/models/{m}/versions/1/artifacts/config.json", model)
                .then().statusCode(200).extract().asByteArray();
        assertArrayEquals(Files.readAllBytes(dir.resolve("config.json")), config);

        int blobs = blobCount();
        as(Tokens.writer()).body(Map.of("path", dir.toString())).post("/v1/models/{m}/imports", model)
                .then().statusCode(201).body("number", equalTo(2));
        assertEquals(blobs, blobCount(), "a re-import stores no new bytes");
    }

    @Test
    void importsFromAnObjectStorePrefix() throws Exception {
        String model = Registry.uniqueName("gpt2");
        String prefix = "uploads/" + model + "/";
        for (String file : List.of("config.json", "tokenizer.json", "model.safetensors")) {
            try (InputStream in = Files.newInputStream(FIXTURES.resolve("tiny-gpt2").resolve(file))) {
                store.put(prefix + file, in, Optional.empty());
            }
        }
        as(Tokens.writer()).body(Map.of("prefix", prefix)).post("/v1/models/{m}/imports", model)
                .then().statusCode(201)
                .body("state", equalTo("ready"), "recipe.modelType", equalTo("gpt2"), "manifest.size()", equalTo(3));
    }

    @Test
    void refusesAnUnknownArchitecture() throws Exception {
        Path dir = copyOf("tiny-llama");
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("\"llama\"", "\"bert\""));
        refused(dir, 422, "invalid-config", "bert");
    }

    @Test
    void refusesShapesThatDoNotMatchTheConfig() throws Exception {
        Path dir = copyOf("tiny-llama");
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("\"intermediate_size\": 160", "\"intermediate_size\": 128"));
        refused(dir, 422, "shape-mismatch", "mlp");
    }

    @Test
    void refusesABadOrMissingTokenizer() throws Exception {
        Path dir = copyOf("tiny-llama");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        refused(dir, 422, "invalid-tokenizer", "tokenizer.json");
        Files.delete(dir.resolve("tokenizer.json"));
        refused(dir, 422, "missing-tokenizer", "tokenizer.json");
    }

    @Test
    void refusesATruncatedSafetensorsFile() throws Exception {
        Path dir = copyOf("tiny-llama");
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            file.setLength(600);
        }
        refused(dir, 422, "invalid-safetensors", "model.safetensors");
    }

    @Test
    void refusesAnOversizedSafetensorsHeader() throws Exception {
        Path dir = copyOf("tiny-llama");
        try (RandomAccessFile file = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            file.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        }
        refused(dir, 422, "invalid-safetensors", "header length");
    }

    @Test
    void refusesBadSourcesAndAliasesWithoutTheAdminRole() {
        String model = Registry.uniqueName("nowhere");
        as(Tokens.writer()).body(Map.of("path", "relative/dir")).post("/v1/models/{m}/imports", model)
                .then().statusCode(400).body("errors[0].field", equalTo("path"));
        as(Tokens.writer()).body(Map.of("path", "/no/such/dir")).post("/v1/models/{m}/imports", model)
                .then().statusCode(400);
        as(Tokens.writer()).body(Map.of("path", "/tmp", "prefix", "x/")).post("/v1/models/{m}/imports", model)
                .then().statusCode(400);
        as(Tokens.writer()).body(Map.of("prefix", "../x/")).post("/v1/models/{m}/imports", model)
                .then().statusCode(400);
        as(Tokens.writer()).body(Map.of("prefix", "no-such-prefix/")).post("/v1/models/{m}/imports", model)
                .then().statusCode(400);
        as(Tokens.writer()).body(Map.of("path", FIXTURES.resolve("tiny-llama").toString(), "alias", "production"))
                .post("/v1/models/{m}/imports", model).then().statusCode(403);
        as(Tokens.reader()).get("/v1/models/{m}", model).then().statusCode(404);
    }

    private void refused(Path dir, int status, String type, String detail) {
        String model = Registry.uniqueName("refused");
        as(Tokens.writer()).body(Map.of("path", dir.toString())).post("/v1/models/{m}/imports", model)
                .then().statusCode(status).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:" + type),
                        "detail", org.hamcrest.Matchers.containsString(detail),
                        "detail", org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString(temp.toString())));
        as(Tokens.reader()).get("/v1/models/{m}", model).then().statusCode(404);
    }

    private Path copyOf(String fixture) throws IOException {
        Path dir = Files.createDirectories(temp.resolve(fixture));
        for (String file : List.of("config.json", "tokenizer.json", "model.safetensors")) {
            Files.copy(FIXTURES.resolve(fixture).resolve(file), dir.resolve(file));
        }
        return dir;
    }

    private int blobCount() throws IOException {
        return store.list("blobs/sha256/").size();
    }
}
