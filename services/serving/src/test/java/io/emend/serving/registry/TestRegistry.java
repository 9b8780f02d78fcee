package io.emend.serving.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The registry's read endpoints that serving calls ({@code GET /v1/resolve/{ref}}, {@code GET /v1/blobs/{sha}},
 * {@code GET /v1/models/{name}/versions/{number}} for an edit version's recipe),
 * answering from directories on disk in the shapes services/registry/API.md gives, behind a bearer token. It stands
 * in for the registry service, which is a separate application with its own database (serving never imports it);
 * the full stack runs the real one end to end.
 */
final class TestRegistry implements AutoCloseable {

    static final String TOKEN = "reader-token";

    private final HttpServer server;
    private final String model;
    private final Map<Integer, List<ResolvedVersion.Entry>> versions = new ConcurrentHashMap<>();
    private final Map<String, Path> blobs = new ConcurrentHashMap<>();
    private final Map<String, Integer> aliases = new ConcurrentHashMap<>();
    /** Edit versions' recipes (services/editor's: {@code method}, {@code base} = the edit base's exact reference). */
    private final Map<Integer, Map<String, Object>> editRecipes = new ConcurrentHashMap<>();
    private final ObjectMapper json = new ObjectMapper();

    TestRegistry(String model) throws IOException {
        this.model = model;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/resolve/", this::resolve);
        server.createContext("/v1/blobs/", this::blob);
        server.createContext("/v1/models/", this::version);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Registers every file of {@code dir} as version {@code number}. */
    void addVersion(int number, Path dir) {
        List<ResolvedVersion.Entry> manifest = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String sha = sha256(f);
                blobs.put(sha, f);
                manifest.add(new ResolvedVersion.Entry(f.getFileName().toString(), sha, Files.size(f),
                        "application/octet-stream"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        versions.put(number, manifest);
    }

    /**
     * Registers every file of {@code dir} (an editor output: the materialized model and {@code edit_delta.safetensors})
     * as edit version {@code number} over the edit base {@code base}, as the editor registers it.
     */
    void addEditVersion(int number, Path dir, String method, String base) {
        addVersion(number, dir);
        editRecipes.put(number, Map.of("operation", "edit", "method", method, "base", base,
                "parent", base));
    }

    /** A version whose manifest promises {@code file}'s digest for {@code path} while the blob holds other bytes. */
    void addCorruptVersion(int number, Path dir, String path, Path otherBytes) {
        addVersion(number, dir);
        for (ResolvedVersion.Entry e : versions.get(number)) {
            if (e.path().equals(path)) {
                String fakeSha = HexFormat.of().formatHex(new byte[32]).replace('0', 'c');
                versions.get(number).set(versions.get(number).indexOf(e),
                        new ResolvedVersion.Entry(path, fakeSha, e.size(), e.mediaType()));
                blobs.put(fakeSha, otherBytes);
                return;
            }
        }
        throw new IllegalArgumentException(path + " is not in " + dir);
    }

    List<ResolvedVersion.Entry> manifest(int number) {
        return versions.get(number);
    }

    void moveAlias(String alias, int number) {
        aliases.put(alias, number);
    }

    private void resolve(HttpExchange x) throws IOException {
        if (!authorized(x)) {
            return;
        }
        String ref = x.getRequestURI().getPath().substring("/v1/resolve/".length());
        Integer number = null;
        String alias = null;
        if (ref.startsWith(model + "@")) {
            alias = ref.substring(model.length() + 1);
            number = aliases.get(alias);
        } else if (ref.startsWith(model + ":")) {
            number = Integer.parseInt(ref.substring(model.length() + 1));
        } else if (ref.equals(model)) {
            number = versions.keySet().stream().max(Integer::compare).orElse(null);
        }
        if (number == null || !versions.containsKey(number)) {
            send(x, 404, "application/problem+json", json.writeValueAsBytes(Map.of("type", "about:blank",
                    "title", "Not Found", "status", 404, "detail", "nothing matches " + ref)));
            return;
        }
        var body = new java.util.LinkedHashMap<String, Object>();
        body.put("model", model);
        body.put("number", number);
        body.put("id", java.util.UUID.nameUUIDFromBytes((model + number).getBytes(StandardCharsets.UTF_8)).toString());
        body.put("state", "ready");
        body.put("operation", operation(number));
        body.put("manifest", versions.get(number).stream().map(e -> Map.of("path", e.path(), "sha256", e.sha256(),
                "size", e.size(), "mediaType", e.mediaType(), "present", true)).toList());
        if (alias != null) {
            body.put("alias", alias);
        }
        send(x, 200, "application/json", json.writeValueAsBytes(body));
    }

    private String operation(int number) {
        return editRecipes.containsKey(number) ? "edit" : number == 1 ? "import" : "finetune";
    }

    /** {@code GET /v1/models/{name}/versions/{number}}: the parts of the version that serving reads. */
    private void version(HttpExchange x) throws IOException {
        if (!authorized(x)) {
            return;
        }
        String[] parts = x.getRequestURI().getPath().split("/");
        // "", "v1", "models", name, "versions", number
        Integer number = parts.length == 6 && parts[3].equals(model) && parts[4].equals("versions")
                && parts[5].matches("[0-9]{1,9}") ? Integer.valueOf(parts[5]) : null;
        if (number == null || !versions.containsKey(number)) {
            send(x, 404, "application/problem+json", "{\"status\":404}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        var body = new java.util.LinkedHashMap<String, Object>();
        body.put("model", model);
        body.put("number", number);
        body.put("state", "ready");
        body.put("operation", operation(number));
        body.put("recipe", editRecipes.getOrDefault(number, Map.of()));
        send(x, 200, "application/json", json.writeValueAsBytes(body));
    }

    private void blob(HttpExchange x) throws IOException {
        if (!authorized(x)) {
            return;
        }
        Path file = blobs.get(x.getRequestURI().getPath().substring("/v1/blobs/".length()));
        if (file == null) {
            send(x, 404, "application/problem+json", "{\"status\":404}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        x.getResponseHeaders().set("Content-Type", "application/octet-stream");
        x.sendResponseHeaders(200, Files.size(file));
        try (OutputStream out = x.getResponseBody(); InputStream in = Files.newInputStream(file)) {
            in.transferTo(out);
        }
    }

    private boolean authorized(HttpExchange x) throws IOException {
        if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
            send(x, 401, "application/problem+json", "{\"status\":401}".getBytes(StandardCharsets.UTF_8));
            return false;
        }
        return true;
    }

    private static void send(HttpExchange x, int status, String type, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        x.sendResponseHeaders(status, body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
