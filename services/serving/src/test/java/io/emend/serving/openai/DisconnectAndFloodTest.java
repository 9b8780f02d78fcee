package io.emend.serving.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.serving.metrics.ServingMetrics;
import io.emend.serving.model.ModelCatalog;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Clients that leave mid-stream free their slot; a flood beyond the queue gets 429s and the service carries on. */
@QuarkusTest
class DisconnectAndFloodTest {

    @TestHTTPResource("/")
    URL base;

    @Inject
    ModelCatalog models;

    @Inject
    ServingMetrics metrics;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aClientThatLeavesMidStreamFreesItsSlot() throws Exception {
        models.ensure("stories260k");
        var scheduler = models.current("stories260k").orElseThrow().scheduler();
        double before = metrics.completionTokens();
        String body = "{\"model\":\"stories260k\",\"prompt\":\"Once\",\"max_tokens\":500,\"temperature\":0.9,\"seed\":1,"
                + "\"stream\":true}";
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertTrue(in.readLine().startsWith("HTTP/1.1 200"));
            int events = 0;
            String line;
            while (events < 2 && (line = in.readLine()) != null) {
                if (line.startsWith("data: {")) {
                    events++;
                }
            }
            assertEquals(2, events);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (scheduler.active() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, scheduler.active());
        double generated = metrics.completionTokens() - before;
        // 500 tokens were asked for; the stream was cut after two, and the server noticed within a few more writes
        assertTrue(generated < 400, "the departed client's generation ran on: " + generated + " tokens");
    }

    @Test
    void aFloodBeyondTheQueueGets429AndTheServiceSurvives() throws Exception {
        models.ensure("stories260k");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String body = "{\"model\":\"stories260k\",\"prompt\":\"Once upon a time\",\"max_tokens\":300,\"temperature\":0}";
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            all.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int refused = 0;
        String text = null;
        for (var f : all) {
            HttpResponse<String> r = f.get();
            JsonNode answer = json.readTree(r.body());
            if (r.statusCode() == 429) {
                refused++;
                assertEquals("rate_limit_exceeded", answer.path("error").path("code").asText());
                assertTrue(answer.path("error").path("message").asText().contains("retry"));
                assertTrue(r.headers().firstValue("Retry-After").isPresent());
            } else {
                assertEquals(200, r.statusCode(), r.body());
                ok++;
                String t = answer.path("choices").path(0).path("text").asText();
                if (text != null) {
                    assertEquals(text, t, "greedy answers in one batch are the same text");
                }
                text = t;
            }
        }
        assertEquals(40, ok + refused);
        assertTrue(refused > 0, "a batch of 4 and a queue of 4 cannot take 40 requests at once");
        assertTrue(ok >= 4, "at least a queue's worth was served: " + ok);
        HttpResponse<String> after = http.send(HttpRequest.newBuilder(URI.create(base + "v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, after.statusCode());
        assertEquals(text, json.readTree(after.body()).path("choices").path(0).path("text").asText());
        HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(URI.create(base + "q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(scrape.body().contains("emend_serving_rejected_total"), "metrics list refusals");
        assertTrue(scrape.body().contains("emend_serving_batch_size"));
        assertTrue(scrape.body().contains("emend_serving_time_to_first_token"));
        assertTrue(scrape.body().contains("emend_serving_queue_depth"));
    }
}
