package io.emend.service.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The registry's REST API (services/registry/API.md), the calls a job service makes: resolve a reference, read a
 * version, download blobs, create a version with its lineage, upload its artifacts by sha256, mark it ready or failed,
 * move an alias. Every failure to talk to the registry is a {@link RegistryUnavailable} whose message says what was
 * being done and what the registry answered.
 */
public class RegistryClient {

    private final URI base;
    private final Duration timeout;
    private final RegistryTokens tokens;
    private final ObjectMapper json;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public RegistryClient(RegistryConfig config, RegistryTokens tokens, ObjectMapper json) {
        String url = config.url().toString();
        this.base = URI.create(url.endsWith("/") ? url : url + "/");
        this.timeout = config.timeout();
        this.tokens = tokens;
        this.json = json;
    }

    /**
     * The version a reference ({@code name}, {@code name@alias}, {@code name:N}) names.
     *
     * @throws UnknownReference when nothing matches, or the version is not ready
     */
    public ResolvedVersion resolve(String ref) {
        HttpResponse<String> answer = send(request("v1/resolve/" + segment(ref)).GET(), "resolve " + ref);
        if (answer.statusCode() == 404) {
            throw new UnknownReference(ref, "model reference '" + ref + "' matches no version in the registry: "
                    + detailOf(answer));
        }
        ResolvedVersion version = read(expect(answer, 200, "resolve " + ref), ResolvedVersion.class);
        if (!"ready".equals(version.state())) {
            throw new UnknownReference(ref, "model reference '" + ref + "' is version " + version.exactRef()
                    + " in state " + version.state() + "; only ready versions can be used");
        }
        return version;
    }

    /**
     * A version with its parents, recipe and metrics.
     *
     * @throws UnknownReference when the model or version does not exist
     */
    public VersionDetails version(String model, int number) {
        String what = "read version " + model + ":" + number;
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/versions/" + number).GET(), what);
        if (answer.statusCode() == 404) {
            throw new UnknownReference(model + ":" + number, "no version " + model + ":" + number
                    + " in the registry: " + detailOf(answer));
        }
        return read(expect(answer, 200, what), VersionDetails.class);
    }

    /** The version number an alias points at, or empty when the model has no such alias. */
    public java.util.Optional<Integer> aliasTarget(String model, String alias) {
        String what = "read alias " + model + "@" + alias;
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/aliases/" + segment(alias)).GET(),
                what);
        if (answer.statusCode() == 404) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(read(expect(answer, 200, what), JsonNode.class).path("version").asInt());
    }

    /** Streams the blob with this digest into {@code target}; the caller verifies it. */
    public void downloadBlob(String sha256, Path target) {
        HttpRequest request = request("v1/blobs/" + segment(sha256)).GET().build();
        try {
            HttpResponse<Path> answer = http.send(request, HttpResponse.BodyHandlers.ofFile(target));
            if (answer.statusCode() != 200) {
                throw new RegistryUnavailable("the registry answered " + answer.statusCode() + " for blob " + sha256);
            }
        } catch (IOException e) {
            throw new RegistryUnavailable("cannot download blob " + sha256 + " from the registry: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailable("interrupted while downloading blob " + sha256, e);
        }
    }

    /**
     * Bytes {@code [offset, offset + length)} of the blob with this digest, asked for as one HTTP range, so a file's
     * header can be read without its data. Fails unless the registry answers exactly that range ({@code 206}); a
     * range past the end of the blob is a {@code 416}, reported as such.
     */
    public byte[] readBlobRange(String sha256, long offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("no byte range starts at " + offset + " with length " + length);
        }
        if (length == 0) {
            return new byte[0];
        }
        String range = "bytes=" + offset + "-" + (offset + length - 1);
        String what = "read " + range + " of blob " + sha256;
        HttpRequest request = request("v1/blobs/" + segment(sha256)).header("Range", range).GET().build();
        try {
            HttpResponse<byte[]> answer = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (answer.statusCode() != 206) {
                throw new RegistryUnavailable("cannot " + what + ": the registry answered " + answer.statusCode()
                        + (answer.statusCode() == 200 ? " (the whole blob, not the range)" : ""));
            }
            if (answer.body().length != length) {
                throw new RegistryUnavailable("cannot " + what + ": the registry sent " + answer.body().length
                        + " bytes");
            }
            return answer.body();
        } catch (IOException e) {
            throw new RegistryUnavailable("cannot " + what + ": the registry at " + base + " did not answer ("
                    + e.getMessage() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailable("interrupted while trying to " + what, e);
        }
    }

    /** Creates the model unless it exists. */
    public void ensureModel(String name, String description) {
        HttpResponse<String> found = send(request("v1/models/" + segment(name)).GET(), "read model " + name);
        if (found.statusCode() == 200) {
            return;
        }
        expect(found, 404, "read model " + name);
        HttpResponse<String> created = send(request("v1/models").header("Content-Type", "application/json")
                .POST(body(Map.of("name", name, "description", description))), "create model " + name);
        // 409: another writer created it between the two calls, which is what was wanted
        if (created.statusCode() != 409) {
            expect(created, 201, "create model " + name);
        }
    }

    /** Creates a pending version; returns its number. */
    public int createVersion(String model, NewVersion version) {
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/versions")
                .header("Content-Type", "application/json").POST(body(version)), "create a version of " + model);
        return read(expect(answer, 201, "create a version of " + model), JsonNode.class).path("number").asInt();
    }

    /** Merges {@code metrics} into a version's metrics ({@code PUT .../metrics}). */
    public void putMetrics(String model, int number, Map<String, ?> metrics) {
        String what = "record metrics of " + model + ":" + number;
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/versions/" + number + "/metrics")
                .header("Content-Type", "application/json").PUT(body(metrics)), what);
        expect(answer, 200, what);
    }

    /** Uploads one artifact; the registry checks it against {@code sha256}. */
    public void uploadArtifact(String model, int number, String path, Path file, String sha256) {
        String encodedPath = Arrays.stream(path.split("/")).map(RegistryClient::segment)
                .collect(Collectors.joining("/"));
        try {
            HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/versions/" + number
                    + "/artifacts/" + encodedPath).header("Content-Type", "application/octet-stream")
                    .header("X-Emend-Sha256", sha256).PUT(HttpRequest.BodyPublishers.ofFile(file)),
                    "upload " + path);
            expect(answer, 201, "upload " + path + " to " + model + ":" + number);
        } catch (java.io.FileNotFoundException e) {
            throw new IllegalStateException("file " + file + " vanished before its upload", e);
        }
    }

    /** Moves a version to {@code ready} or {@code failed}. */
    public void setState(String model, int number, String state, String reason) {
        Map<String, String> body = reason == null ? Map.of("state", state) : Map.of("state", state, "reason", reason);
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/versions/" + number + "/state")
                .header("Content-Type", "application/json").POST(body(body)), "set " + model + ":" + number + " " + state);
        expect(answer, 200, "set " + model + ":" + number + " " + state);
    }

    /** Points an alias at a version (needs {@code admin}). */
    public void moveAlias(String model, String alias, int number) {
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/aliases/" + segment(alias))
                .header("Content-Type", "application/json").PUT(body(Map.of("version", number))),
                "move alias " + model + "@" + alias);
        expect(answer, 200, "move alias " + model + "@" + alias + " to version " + number);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Authorization", "Bearer " + tokens.token())
                .header("Accept", "application/json");
    }

    private HttpRequest.BodyPublisher body(Object value) {
        try {
            return HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a registry request as JSON", e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request, String what) {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RegistryUnavailable("cannot " + what + ": the registry at " + base + " did not answer ("
                    + e.getMessage() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryUnavailable("interrupted while trying to " + what, e);
        }
    }

    private String expect(HttpResponse<String> answer, int status, String what) {
        if (answer.statusCode() != status) {
            throw new RegistryUnavailable("cannot " + what + ": the registry answered " + answer.statusCode() + ": "
                    + detailOf(answer));
        }
        return answer.body();
    }

    /** The problem document's detail, else the body itself. */
    private String detailOf(HttpResponse<String> answer) {
        try {
            JsonNode problem = json.readTree(answer.body());
            if (problem != null && problem.hasNonNull("detail")) {
                return problem.get("detail").asText();
            }
        } catch (IOException e) {
            // not a problem document: the raw body says more than the parse error would
        }
        return answer.body();
    }

    private <T> T read(String body, Class<T> type) {
        try {
            return json.readValue(body, type);
        } catch (IOException e) {
            throw new RegistryUnavailable("the registry's answer is not what its API says: " + e.getMessage(), e);
        }
    }

    private static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

}
