package io.emend.merger.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.merger.MergerConfig;
import jakarta.enterprise.context.ApplicationScoped;
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

/** The registry's REST API (services/registry/API.md), the calls a merge makes. */
@ApplicationScoped
public class RegistryClient {

    private final URI base;
    private final Duration timeout;
    private final RegistryTokens tokens;
    private final ObjectMapper json;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    RegistryClient(MergerConfig config, RegistryTokens tokens, ObjectMapper json) {
        String url = config.registry().url().toString();
        this.base = URI.create(url.endsWith("/") ? url : url + "/");
        this.timeout = config.registry().timeout();
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
                    + " in state " + version.state() + "; only ready versions can be merged");
        }
        return version;
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

    /** Creates a pending version from a request body of {@code POST /v1/models/{name}/versions}; returns its number. */
    public int createVersion(String model, Object body) {
        HttpResponse<String> answer = send(request("v1/models/" + segment(model) + "/versions")
                .header("Content-Type", "application/json").POST(body(body)), "create a version of " + model);
        return read(expect(answer, 201, "create a version of " + model), JsonNode.class).path("number").asInt();
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
            throw new IllegalStateException("merged file " + file + " vanished before its upload", e);
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
