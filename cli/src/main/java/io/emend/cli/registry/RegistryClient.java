package io.emend.cli.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The registry's REST API over {@code java.net.http}, as {@code /work/briefs/registry-api.md} describes it. Answers
 * are JSON trees; every refusal ({@code application/problem+json}) and every transport failure becomes a
 * {@link RegistryException} whose message is one line saying what went wrong and what to do.
 */
public final class RegistryClient {

    public static final String DEFAULT_URL = "http://localhost:8081";
    public static final ObjectMapper JSON = new ObjectMapper();

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    // An import validates every safetensors header server-side; a big model may take a while.
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);

    private final URI base;
    private final Supplier<Optional<String>> token;
    private final HttpClient http;

    public RegistryClient(URI base, Supplier<Optional<String>> token) {
        String scheme = base.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme) || base.getHost() == null) {
            throw new IllegalArgumentException("registry URL '" + base + "' is not an http(s) URL like " + DEFAULT_URL);
        }
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        this.token = token;
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    }

    public URI base() {
        return base;
    }

    public JsonNode get(String path) {
        return json(send(request(path).GET().header("Accept", "application/json")));
    }

    public String getText(String path, String accept) {
        return send(request(path).GET().header("Accept", accept)).body();
    }

    public JsonNode post(String path, Object body) {
        return json(send(request(path).POST(jsonBody(body)).header("Content-Type", "application/json")
                .header("Accept", "application/json")));
    }

    public JsonNode put(String path, Object body) {
        return json(send(request(path).PUT(jsonBody(body)).header("Content-Type", "application/json")
                .header("Accept", "application/json")));
    }

    public void delete(String path) {
        send(request(path).DELETE().header("Accept", "application/json"));
    }

    /** {@code ?k=v&...} with each value URL-encoded; entries whose value is null are left out. */
    public static String query(Map<String, ?> params) {
        List<String> parts = new ArrayList<>();
        params.forEach((k, v) -> {
            if (v != null) {
                parts.add(k + "=" + URLEncoder.encode(v.toString(), StandardCharsets.UTF_8));
            }
        });
        return parts.isEmpty() ? "" : "?" + String.join("&", parts);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(REQUEST_TIMEOUT);
        token.get().ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private static HttpRequest.BodyPublisher jsonBody(Object body) {
        try {
            return HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write the request as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder builder) {
        HttpRequest request = builder.build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (HttpConnectTimeoutException | ConnectException e) {
            throw new RegistryException("cannot reach the registry at " + base
                    + "; start the stack with ./emend up, or point --registry (or EMEND_REGISTRY_URL) at it", e);
        } catch (HttpTimeoutException e) {
            throw new RegistryException("the registry at " + base + " did not answer " + request.method() + " "
                    + request.uri().getPath() + " within " + REQUEST_TIMEOUT.toMinutes() + " minutes", e);
        } catch (IOException e) {
            throw new RegistryException("talking to the registry at " + base + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while waiting for the registry", e);
        }
        if (response.statusCode() >= 400) {
            throw refusal(response);
        }
        return response;
    }

    private JsonNode json(HttpResponse<String> response) {
        String body = response.body();
        if (body == null || body.isBlank()) {
            return JSON.nullNode();
        }
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new RegistryException(response.statusCode(), base + " answered " + response.request().uri().getPath()
                    + " with something that is not JSON; is --registry pointing at the Emend registry?");
        }
    }

    /** Turns a 4xx/5xx answer into one line: the problem's detail (or title), its field errors, and a hint. */
    static RegistryException refusal(HttpResponse<String> response) {
        int status = response.statusCode();
        String said = null;
        try {
            JsonNode problem = JSON.readTree(response.body() == null ? "" : response.body());
            if (problem != null && problem.isObject()) {
                said = firstText(problem, "detail", "title", "message");
                List<String> fieldErrors = new ArrayList<>();
                for (JsonNode e : problem.path("errors")) {
                    String field = e.path("field").asText("");
                    String message = e.path("message").asText("");
                    fieldErrors.add(field.isEmpty() ? message : field + ": " + message);
                }
                if (!fieldErrors.isEmpty()) {
                    said = (said == null ? "" : said + " (") + String.join("; ", fieldErrors) + (said == null ? "" : ")");
                }
            }
        } catch (JsonProcessingException e) {
            String body = response.body() == null ? "" : response.body().strip();
            said = body.isEmpty() || body.startsWith("<") ? null : body.lines().findFirst().orElse(null);
        }
        if (said == null || said.isBlank()) {
            said = "the registry refused " + response.request().method() + " " + response.request().uri().getPath();
        }
        said = said.replaceAll("\\s*\\R\\s*", " ").strip();
        if (said.length() > 300) {
            said = said.substring(0, 297) + "...";
        }
        String hint = switch (status) {
            case 401 -> "; the registry wants a valid token: export EMEND_TOKEN=$(./emend token --role reader)";
            case 403 -> "; your token's role is too weak for this: try ./emend token --role admin";
            default -> "";
        };
        return new RegistryException(status, said + " (HTTP " + status + ")" + hint);
    }

    private static String firstText(JsonNode node, String... fields) {
        for (String f : fields) {
            JsonNode v = node.get(f);
            if (v != null && v.isTextual() && !v.asText().isBlank()) {
                return v.asText();
            }
        }
        return null;
    }
}
