package io.emend.serving.registry;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A replica whose default model does not exist yet (a Deployment started before the import) stays unready, says why,
 * and becomes ready by itself once the alias appears: no restart needed.
 */
@QuarkusTest
@TestProfile(DefaultModelRetryTest.AliasNotYetSet.class)
class DefaultModelRetryTest {

    public static class AliasNotYetSet extends RegistryMode {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> overrides = new HashMap<>(super.getConfigOverrides());
            overrides.put("emend.serving.default-model", "stories@canary");
            overrides.put("emend.serving.default-model-retry", "1s");
            return overrides;
        }
    }

    @Test
    void unreadyWhileTheModelIsMissingThenReadyOnceItExists() throws InterruptedException {
        JsonPath down = awaitReadiness(503);
        String check = "checks.find { it.name == 'models' }";
        assertEquals("stories@canary", down.getString(check + ".data.default"));
        assertTrue(down.getString(check + ".data.error").contains("canary"), down.prettify());
        int attempts = down.getInt(check + ".data.attempts");
        assertTrue(attempts >= 1, down.prettify());

        RegistryMode.Resources.registry.moveAlias("canary", 1);
        JsonPath up = awaitReadiness(200);
        assertEquals("stories@canary", up.getString(check + ".data.default"));
    }

    private static JsonPath awaitReadiness(int status) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            var response = given().get("/q/health/ready");
            if (response.statusCode() == status && (status == 200 || response.asString().contains("error"))) {
                return response.jsonPath();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("readiness never answered " + status + ": " + response.asString());
            }
            Thread.sleep(100);
        }
    }
}
