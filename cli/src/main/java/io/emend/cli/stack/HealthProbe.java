package io.emend.cli.stack;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Asks a component whether it is ready: a service's {@code /q/health/ready} must answer 200 (Quarkus answers 503
 * while a check, such as the database connection, is down); the broker must accept a connection on its port.
 */
final class HealthProbe {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final String HOST = "127.0.0.1";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    boolean isReady(Component component, StackPorts ports) {
        int port = ports.port(component);
        return component.isService() ? serviceReady(port) : accepts(port);
    }

    private boolean serviceReady(int port) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + port + "/q/health/ready"))
                .timeout(TIMEOUT).GET().build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), (int) TIMEOUT.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
