package io.emend.registry.artifact;

import static io.emend.registry.Registry.as;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emend.contracts.store.ObjectStore;
import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ArtifactResourceTest {

    @Inject
    ObjectStore store;

    @Test
    void uploadsVerifiesAndServesFilesWithRanges() throws Exception {
        String model = Registry.createModel("files");
        byte[] config = "{\"model_type\":\"llama\"}".getBytes();
        byte[] weights = randomBytes(100_000);
        int number = Registry.createVersion(model, Map.of("operation", "import", "manifest", List.of(
                entry("config.json", config, "application/json"), entry("weights/model.safetensors", weights, null))));

        upload(model, number, "config.json", config).then().statusCode(201)
                .body("path", equalTo("config.json"), "sha256", equalTo(sha256(config)), "size", equalTo(config.length));
        as(Tokens.writer()).body(Map.of("state", "ready")).post("/v1/models/{m}/versions/{n}/state", model, number)
                .then().statusCode(409);
        upload(model, number, "weights/model.safetensors", weights).then().statusCode(201);
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, number).then()
                .body("manifest.present", equalTo(List.of(true, true)));
        Registry.ready(model, number);

        byte[] whole = as(Tokens.reader()).get("/v1/models/{m}/versions/{n}/artifacts/weights/model.safetensors",
                model, number).then().statusCode(200)
                .header("ETag", "\"" + sha256(weights) + "\"").header("Accept-Ranges", "bytes")
                .contentType("application/octet-stream").extract().asByteArray();
        assertArrayEquals(weights, whole);
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}/artifacts/config.json", model, number)
                .then().statusCode(200).contentType("application/json");

        byte[] middle = as(Tokens.reader()).header("Range", "bytes=1000-1999")
                .get("/v1/models/{m}/versions/{n}/artifacts/weights/model.safetensors", model, number)
                .then().statusCode(206).header("Content-Range", "bytes 1000-1999/100000")
                .header("Content-Length", "1000").extract().asByteArray();
        assertArrayEquals(Arrays.copyOfRange(weights, 1000, 2000), middle);
        byte[] tail = as(Tokens.reader()).header("Range", "bytes=-10")
                .get("/v1/blobs/{sha}", sha256(weights)).then().statusCode(206)
                .header("Content-Range", "bytes 99990-99999/100000").extract().asByteArray();
        assertArrayEquals(Arrays.copyOfRange(weights, 99_990, 100_000), tail);
        as(Tokens.reader()).header("Range", "bytes=200000-")
                .get("/v1/blobs/{sha}", sha256(weights)).then().statusCode(416)
                .contentType("application/problem+json").header("Content-Range", "bytes */100000");
        assertArrayEquals(weights, as(Tokens.reader()).get("/v1/blobs/{sha}", sha256(weights)).then().statusCode(200)
                .extract().asByteArray());
        as(Tokens.reader()).get("/v1/blobs/{sha}", "0".repeat(64)).then().statusCode(404);
        as(Tokens.reader()).get("/v1/blobs/{sha}", "not-a-digest").then().statusCode(400);
    }

    @Test
    void storesASharedFileOnce() throws Exception {
        String model = Registry.createModel("shared");
        byte[] base = randomBytes(50_000);
        byte[] adapter = randomBytes(5_000);
        int before = blobCount();
        int first = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(entry("model.safetensors", base, null))));
        upload(model, first, "model.safetensors", base).then().statusCode(201);
        Registry.ready(model, first);
        assertEquals(before + 1, blobCount());

        int second = Registry.createVersion(model, Map.of("operation", "finetune",
                "parents", List.of(Map.of("ref", model + ":" + first, "role", "base")),
                "manifest", List.of(entry("model.safetensors", base, null),
                        entry("adapter_model.safetensors", adapter, null))));
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, second).then()
                .body("manifest.find { it.path == 'model.safetensors' }.present", equalTo(true),
                        "manifest.find { it.path == 'adapter_model.safetensors' }.present", equalTo(false));
        upload(model, second, "model.safetensors", base).then().statusCode(201);
        upload(model, second, "adapter_model.safetensors", adapter).then().statusCode(201);
        Registry.ready(model, second);
        assertEquals(before + 2, blobCount(), "the base file is stored once for both versions");
    }

    @Test
    void refusesBytesThatDoNotMatchTheDigestAndKeepsNothing() throws Exception {
        String model = Registry.createModel("mismatch");
        byte[] good = randomBytes(10_000);
        byte[] bad = good.clone();
        bad[5_000] ^= 1;
        int number = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(entry("model.safetensors", good, null))));
        int before = blobCount();

        as(Tokens.writer()).header(ArtifactResource.DIGEST_HEADER, sha256(good)).contentType("application/octet-stream")
                .body(bad).put("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(422).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:digest-mismatch"));
        as(Tokens.writer()).header(ArtifactResource.DIGEST_HEADER, sha256(bad)).contentType("application/octet-stream")
                .body(bad).put("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(422).body("detail", org.hamcrest.Matchers.containsString("differs from the manifest"));
        as(Tokens.writer()).header(ArtifactResource.DIGEST_HEADER, sha256(good)).contentType("application/octet-stream")
                .body(Arrays.copyOf(good, 9_000)).put("/v1/models/{m}/versions/{n}/artifacts/model.safetensors",
                        model, number)
                .then().statusCode(422).body("detail", org.hamcrest.Matchers.containsString("9000 bytes"));

        assertEquals(before, blobCount());
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, number).then()
                .body("manifest[0].present", equalTo(false));
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(404).body("type", equalTo("urn:emend:problem:artifact-not-uploaded"));
    }

    @Test
    void refusesABodyLargerThanTheManifestSays() throws Exception {
        String model = Registry.createModel("oversized");
        byte[] declared = randomBytes(1_000);
        byte[] sent = Arrays.copyOf(declared, 200_000);
        int number = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(entry("model.safetensors", declared, null))));
        int before = blobCount();
        as(Tokens.writer()).header(ArtifactResource.DIGEST_HEADER, sha256(declared))
                .contentType("application/octet-stream").body(sent)
                .put("/v1/models/{m}/versions/{n}/artifacts/model.safetensors", model, number)
                .then().statusCode(413).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:artifact-too-large"));
        assertEquals(before, blobCount());
    }

    @Test
    void refusesPathsOutsideTheManifestAndTraversal() throws Exception {
        String model = Registry.createModel("paths");
        byte[] bytes = randomBytes(100);
        int number = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(entry("weights/model.safetensors", bytes, null))));
        upload(model, number, "other.bin", bytes).then().statusCode(400)
                .body("type", equalTo("urn:emend:problem:not-in-manifest"));
        given().urlEncodingEnabled(false).auth().oauth2(Tokens.writer())
                .header(ArtifactResource.DIGEST_HEADER, sha256(bytes)).contentType("application/octet-stream")
                .body(bytes).put("/v1/models/" + model + "/versions/" + number + "/artifacts/weights/..%2F..%2Fescape")
                .then().statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:invalid-artifact-path"));
        given().urlEncodingEnabled(false).auth().oauth2(Tokens.reader())
                .get("/v1/models/" + model + "/versions/" + number + "/artifacts/%2E%2E%2Fetc%2Fpasswd")
                .then().statusCode(400);
        as(Tokens.writer()).contentType("application/octet-stream").body(bytes)
                .put("/v1/models/{m}/versions/{n}/artifacts/weights/model.safetensors", model, number)
                .then().statusCode(400).body("type", equalTo("urn:emend:problem:missing-digest"));
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, number).then()
                .body("manifest[0].present", equalTo(false));
    }

    @Test
    void refusesUploadsToAVersionThatIsNoLongerPending() throws Exception {
        String model = Registry.createModel("closed");
        byte[] bytes = randomBytes(100);
        int number = Registry.createVersion(model, Map.of("operation", "import",
                "manifest", List.of(entry("model.safetensors", bytes, null))));
        as(Tokens.writer()).body(Map.of("state", "failed")).post("/v1/models/{m}/versions/{n}/state", model, number)
                .then().statusCode(200);
        upload(model, number, "model.safetensors", bytes).then().statusCode(409)
                .body("type", equalTo("urn:emend:problem:version-not-pending"));
        upload(model, number, "model.safetensors", bytes, Tokens.reader()).then().statusCode(403);
    }

    static io.restassured.response.Response upload(String model, int number, String path, byte[] bytes)
            throws Exception {
        return upload(model, number, path, bytes, Tokens.writer());
    }

    static io.restassured.response.Response upload(String model, int number, String path, byte[] bytes, String token)
            throws Exception {
        return given().auth().oauth2(token).header(ArtifactResource.DIGEST_HEADER, sha256(bytes))
                .contentType("application/octet-stream").body(bytes)
                .put("/v1/models/{m}/versions/{n}/artifacts/" + path, model, number);
    }

    static Map<String, Object> entry(String path, byte[] bytes, String mediaType) throws Exception {
        return mediaType == null
                ? Map.of("path", path, "sha256", sha256(bytes), "size", bytes.length)
                : Map.of("path", path, "sha256", sha256(bytes), "size", bytes.length, "mediaType", mediaType);
    }

    static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private int blobCount() throws IOException {
        return store.list("blobs/sha256/").size();
    }
}
