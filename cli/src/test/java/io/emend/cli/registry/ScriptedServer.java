package io.emend.cli.registry;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback HTTP server that answers each {@code METHOD /path?query} with a scripted response and records what it
 * was sent. It stands in for the registry only to test how the client builds requests and reads answers, including
 * refusals the real registry is not easily provoked into (a 502 from a proxy, an HTML error page).
 */
final class ScriptedServer implements AutoCloseable {

    record Answer(int status, String contentType, String body) {
        static Answer json(int status, String body) {
            return new Answer(status, "application/json", body);
        }

        static Answer problem(int status, String body) {
            return new Answer(status, "application/problem+json", body);
        }
    }

    record Request(String method, String target, String authorization, String accept, String body) {
    }

    private final HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    ScriptedServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String target = exchange.getRequestURI().getRawPath()
                    + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(new Request(exchange.getRequestMethod(), target,
                    exchange.getRequestHeaders().getFirst("Authorization"),
                    exchange.getRequestHeaders().getFirst("Accept"), body));
            Answer answer = answers.getOrDefault(exchange.getRequestMethod() + " " + target,
                    Answer.problem(404, "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no script for "
                            + exchange.getRequestMethod() + " " + target + "\"}"));
            byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", answer.contentType());
            exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                exchange.getResponseBody().write(bytes);
            }
            exchange.close();
        });
        server.start();
    }

    ScriptedServer on(String methodAndTarget, Answer answer) {
        answers.put(methodAndTarget, answer);
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    Request last() {
        return requests.getLast();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
