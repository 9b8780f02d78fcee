package io.emend.registry.artifact;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Uploads and downloads a file larger than this JVM's whole heap (the registry's surefire config caps it at 256 MiB),
 * so it passes only if both directions stream.
 */
@QuarkusTest
class LargeUploadTest {

    private static final long SIZE = 320L * 1024 * 1024;

    @TestHTTPResource("/")
    URI base;

    @Test
    void streamsAFileLargerThanTheHeapBothWays() throws Exception {
        assertTrue(Runtime.getRuntime().maxMemory() < SIZE, "the test JVM's heap must be smaller than the file");
        Path file = Files.createTempFile("emend-large", ".bin");
        try {
            String sha256 = writeRandom(file, SIZE);
            String model = Registry.createModel("large");
            int number = Registry.createVersion(model, Map.of("operation", "import", "manifest",
                    List.of(Map.of("path", "model.safetensors", "sha256", sha256, "size", SIZE))));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI artifact = base.resolve("v1/models/" + model + "/versions/" + number + "/artifacts/model.safetensors");

            HttpResponse<String> put = http.send(HttpRequest.newBuilder(artifact)
                    .header("Authorization", "Bearer " + Tokens.writer())
                    .header(ArtifactResource.DIGEST_HEADER, sha256)
                    .header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, put.statusCode(), put.body());
            Registry.ready(model, number);
            as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, number).then()
                    .body("manifest[0].size", equalTo((int) SIZE));

            HttpResponse<InputStream> get = http.send(HttpRequest.newBuilder(artifact)
                    .header("Authorization", "Bearer " + Tokens.reader()).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, get.statusCode());
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            long received = 0;
            try (InputStream body = get.body()) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = body.read(buffer)) >= 0; ) {
                    digest.update(buffer, 0, n);
                    received += n;
                }
            }
            assertEquals(SIZE, received);
            assertEquals(sha256, HexFormat.of().formatHex(digest.digest()));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static String writeRandom(Path file, long size) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        SplittableRandom random = new SplittableRandom(7);
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) {
                    chunk.putLong(random.nextLong());
                }
                digest.update(chunk.array());
                out.write(chunk.array());
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
