package io.emend.bench.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Fills a fresh registry through its REST API the way producers do: per model an {@code import} version, then
 * fine-tunes each made from the previous one, every version with a manifest whose files are uploaded and verified,
 * then marked ready, and the alias {@code production} on the newest. Config and tokenizer are the same file in every
 * version of a model (as in a fine-tune), so later versions find them present and upload only their weights.
 */
final class SeedCatalog {

    static final String ALIAS = "production";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WEIGHT_BYTES = 4096;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI base;
    private final String writer;
    private final String admin;

    SeedCatalog(URI base, String writer, String admin) {
        this.base = base;
        this.writer = writer;
        this.admin = admin;
    }

    static String modelName(int index) {
        return String.format(Locale.ROOT, "bench-%05d", index);
    }

    /** Seeds {@code models} models of {@code versions} versions with {@code files} manifest entries each. */
    void seed(int models, int versions, int files, int threads) throws Exception {
        if (files < 3) {
            throw new IllegalArgumentException("--files must be at least 3 (config, tokenizer, weights), got " + files);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> done = new ArrayList<>();
            for (int m = 0; m < models; m++) {
                String model = modelName(m);
                done.add(pool.submit(() -> {
                    seedModel(model, versions, files);
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        }
    }

    /** Checks that every model resolves through its alias to its newest version with a complete manifest. */
    void verify(int models, int versions, int files) throws IOException, InterruptedException {
        for (int m = 0; m < models; m++) {
            String model = modelName(m);
            JsonNode resolved = call("GET", "/v1/resolve/" + model + "@" + ALIAS, writer, null, 200);
            if (resolved.path("number").asInt() != versions || resolved.path("manifest").size() != files) {
                throw new IllegalStateException("seeded " + model + " resolves to " + resolved);
            }
            for (JsonNode entry : resolved.path("manifest")) {
                if (!entry.path("present").asBoolean()) {
                    throw new IllegalStateException("seeded " + model + " lacks " + entry);
                }
            }
        }
    }

    private void seedModel(String model, int versions, int files) throws Exception {
        call("POST", "/v1/models", writer, Map.of("name", model, "description", "registry bench model",
                "family", "llama", "tags", List.of("bench")), 201);
        for (int number = 1; number <= versions; number++) {
            Map<String, byte[]> contents = files(model, number, files);
            List<Map<String, Object>> manifest = new ArrayList<>();
            contents.forEach((path, bytes) -> manifest.add(Map.of("path", path, "sha256", sha256(bytes),
                    "size", bytes.length, "mediaType", path.endsWith(".json") ? "application/json"
                            : "application/octet-stream")));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("number", number);
            body.put("manifest", manifest);
            body.put("metrics", Map.of("perplexity", 12.5 - number * 0.25, "negativeFlips", number));
            if (number == 1) {
                body.put("operation", "import");
                body.put("recipe", Map.of("path", "/models/" + model, "modelType", "llama"));
            } else {
                body.put("operation", "finetune");
                body.put("parents", List.of(Map.of("ref", model + ":" + (number - 1), "role", "base")));
                body.put("recipe", Map.of("method", "lora", "rank", 8, "alpha", 16, "learningRate", 2.0e-4,
                        "dataset", "s3://datasets/" + model + "/" + number));
            }
            JsonNode created = call("POST", "/v1/models/" + model + "/versions", writer, body, 201);
            for (JsonNode entry : created.path("manifest")) {
                if (!entry.path("present").asBoolean()) {
                    upload(model, number, entry.path("path").asText(), contents.get(entry.path("path").asText()));
                }
            }
            call("POST", "/v1/models/" + model + "/versions/" + number + "/state", writer, Map.of("state", "ready"),
                    200);
        }
        call("PUT", "/v1/models/" + model + "/aliases/" + ALIAS, admin, Map.of("version", versions), 200);
    }

    /** Config and tokenizer shared by all versions of a model; weight shards unique to each version. */
    private static Map<String, byte[]> files(String model, int number, int files) {
        Map<String, byte[]> contents = new LinkedHashMap<>();
        contents.put("config.json", ("{\"model_type\":\"llama\",\"name\":\"" + model + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        contents.put("tokenizer.json", ("{\"model\":{\"type\":\"BPE\"},\"for\":\"" + model + "\"}")
                .getBytes(StandardCharsets.UTF_8));
        int shards = files - 2;
        for (int s = 1; s <= shards; s++) {
            String path = shards == 1 ? "model.safetensors"
                    : String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s, shards);
            byte[] bytes = new byte[WEIGHT_BYTES];
            byte[] seed = (model + "/" + number + "/" + path).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (seed[i % seed.length] + i / seed.length);
            }
            contents.put(path, bytes);
        }
        return contents;
    }

    private void upload(String model, int number, String path, byte[] bytes) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/v1/models/" + model + "/versions/" + number
                        + "/artifacts/" + path))
                .header("Authorization", "Bearer " + writer)
                .header("Content-Type", "application/octet-stream")
                .header("X-Emend-Sha256", sha256(bytes))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build();
        expect(http.send(request, HttpResponse.BodyHandlers.ofString()), 201);
    }

    private JsonNode call(String method, String path, String token, Object body, int status)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        }
        return JSON.readTree(expect(http.send(request.build(), HttpResponse.BodyHandlers.ofString()), status));
    }

    private static String expect(HttpResponse<String> response, int status) {
        if (response.statusCode() != status) {
            throw new IllegalStateException(response.request().method() + " " + response.uri() + " answered "
                    + response.statusCode() + " (expected " + status + "): " + response.body());
        }
        return response.body();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
