package io.emend.serving.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.serving.model.ModelNotFound;
import io.emend.serving.model.ModelUnavailable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** The registry's REST API as serving uses it: resolve a reference, stream a blob by digest. */
public final class RegistryClient {

    private final URI base;
    private final Optional<String> token;
    private final Duration timeout;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    public RegistryClient(URI base, Optional<String> token, Duration timeout) {
        String b = base.toString();
        this.base = URI.create(b.endsWith("/") ? b : b + "/");
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    /**
     * {@code GET /v1/resolve/{ref}}.
     *
     * @throws ModelNotFound when the registry knows nothing by that reference
     */
    public ResolvedVersion resolve(String ref) throws IOException {
        HttpResponse<byte[]> response = send(request("v1/resolve/" + URLEncoder.encode(ref, StandardCharsets.UTF_8)),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() == 404) {
            throw new ModelNotFound("The model `" + ref + "` does not exist");
        }
        check(response.statusCode(), "resolving " + ref);
        return json.readValue(response.body(), ResolvedVersion.class);
    }

    /**
     * The {@code base} an edit version's recipe names ({@code GET /v1/models/{name}/versions/{number}}): the version
     * its factors are a change to (services/editor writes it). Empty when the recipe names none.
     *
     * @throws ModelNotFound when the registry knows no such version
     */
    public Optional<String> recipeBase(String model, int number) throws IOException {
        String path = "v1/models/" + URLEncoder.encode(model, StandardCharsets.UTF_8) + "/versions/" + number;
        HttpResponse<byte[]> response = send(request(path), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() == 404) {
            throw new ModelNotFound("The model `" + model + ":" + number + "` does not exist");
        }
        check(response.statusCode(), "reading " + model + ":" + number);
        JsonNode base = json.readTree(response.body()).path("recipe").path("base");
        return base.isTextual() ? Optional.of(base.asText()) : Optional.empty();
    }

    /** {@code GET /v1/blobs/{sha256}}, streamed; the caller closes the stream and checks the digest. */
    public InputStream blob(String sha256) throws IOException {
        HttpResponse<InputStream> response = send(request("v1/blobs/" + sha256), HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close();
            check(response.statusCode(), "downloading blob " + sha256);
        }
        return response.body();
    }

    private HttpRequest request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).GET();
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b.build();
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws IOException {
        try {
            return http.send(request, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while calling the registry at " + request.uri(), e);
        } catch (IOException e) {
            throw new IOException("the registry at " + base + " did not answer: " + e.getMessage(), e);
        }
    }

    private void check(int status, String what) {
        if (status == 401 || status == 403) {
            throw new ModelUnavailable("the registry refused " + what + " (HTTP " + status
                    + "); set emend.serving.registry.token to a token with the reader role", null);
        }
        if (status / 100 != 2) {
            throw new ModelUnavailable("the registry answered HTTP " + status + " " + what, null);
        }
    }
}
