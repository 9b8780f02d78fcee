package io.emend.serving.metrics;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What Prometheus scrapes from {@code /q/metrics} counts what was served: one completion adds its usage's prompt and
 * completion tokens, one time-to-first-token sample and at least one batch-size sample, leaves a positive tokens/s
 * figure, and the queue is empty again afterwards.
 */
@QuarkusTest
public class PrometheusScrapeTest {

    /** The value of the first sample named {@code name} whose labels contain {@code label} ("" for any). */
    public static double sample(String scrape, String name, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(scrape);
        while (m.find()) {
            if (m.group(1) == null ? label.isEmpty() : m.group(1).contains(label)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no sample " + name + " " + label + " in the scrape");
    }

    public static String scrape() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    @Test
    void oneCompletionIsCountedOnce() {
        // load the model first, so that the scrapes bracket the completion alone
        given().contentType("application/json").body("{\"model\":\"stories260k\",\"prompt\":\"a\",\"max_tokens\":1}")
                .post("/v1/completions").then().statusCode(200);
        String before = scrape();
        JsonPath answer = given().contentType("application/json")
                .body("{\"model\":\"stories260k\",\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}")
                .post("/v1/completions").then().statusCode(200).extract().jsonPath();
        String after = scrape();
        assertEquals(answer.getInt("usage.prompt_tokens"), sample(after, "emend_serving_tokens_total", "kind=\"prompt\"")
                - sample(before, "emend_serving_tokens_total", "kind=\"prompt\""), 1e-9);
        assertEquals(answer.getInt("usage.completion_tokens"),
                sample(after, "emend_serving_tokens_total", "kind=\"completion\"")
                        - sample(before, "emend_serving_tokens_total", "kind=\"completion\""), 1e-9);
        assertEquals(1, sample(after, "emend_serving_time_to_first_token_seconds_count", "")
                - sample(before, "emend_serving_time_to_first_token_seconds_count", ""), 1e-9);
        assertTrue(sample(after, "emend_serving_batch_size_count", "")
                > sample(before, "emend_serving_batch_size_count", ""), "each decode step records its batch size");
        assertTrue(sample(after, "emend_serving_tokens_per_second", "") > 0, "tokens/s after a generation");
        assertEquals(0, sample(after, "emend_serving_queue_depth", ""), 1e-9, "nothing waits once it is answered");
        assertTrue(after.contains("emend_serving_swaps_total"), "swaps are exported (counted in the swap tests)");
    }
}
