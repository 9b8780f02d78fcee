package io.emend.registry.alias;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AliasResourceTest {

    @Test
    void movesAnAliasAndKeepsItsHistory() {
        String model = Registry.createModel("promote");
        int one = Registry.readyImport(model);
        int two = Registry.readyImport(model);
        as(Tokens.admin()).body(Map.of("version", one)).put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(200)
                .body("name", equalTo("production"), "model", equalTo(model), "version", equalTo(one));
        as(Tokens.admin()).body(Map.of("version", two, "expectedVersion", one))
                .put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(200).body("version", equalTo(two));
        Registry.moveAlias(model, "staging", two);

        as(Tokens.reader()).get("/v1/models/{m}/aliases", model).then().statusCode(200)
                .body("items.name", contains("production", "staging"), "items.version", contains(two, two));
        as(Tokens.reader()).get("/v1/models/{m}/aliases/production", model).then().statusCode(200)
                .body("history.version", contains(two, one), "history.movedBy", contains("ada", "ada"),
                        "history[0].previousVersion", equalTo(one));
    }

    @Test
    void rollsBackThroughEarlierTargets() {
        String model = Registry.createModel("rollback");
        int one = Registry.readyImport(model);
        int two = Registry.readyImport(model);
        int three = Registry.readyImport(model);
        Registry.moveAlias(model, "production", one);
        Registry.moveAlias(model, "production", two);
        Registry.moveAlias(model, "production", three);

        as(Tokens.admin()).post("/v1/models/{m}/aliases/production/rollback", model)
                .then().statusCode(200).body("version", equalTo(two), "history[0].action", equalTo("rollback"));
        as(Tokens.admin()).post("/v1/models/{m}/aliases/production/rollback", model)
                .then().statusCode(200).body("version", equalTo(one));
        as(Tokens.admin()).post("/v1/models/{m}/aliases/production/rollback", model)
                .then().statusCode(409).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:no-previous-target"));
        as(Tokens.reader()).get("/v1/models/{m}/aliases/production", model).then().body("version", equalTo(one));
        as(Tokens.admin()).post("/v1/models/{m}/aliases/canary/rollback", model).then().statusCode(404);
    }

    @Test
    void refusesAMoveWhenTheExpectedVersionIsStale() {
        String model = Registry.createModel("stale");
        int one = Registry.readyImport(model);
        int two = Registry.readyImport(model);
        Registry.moveAlias(model, "production", two);
        as(Tokens.admin()).body(Map.of("version", one, "expectedVersion", one))
                .put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(409).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:alias-moved"), "detail", containsString("version " + two));
        as(Tokens.reader()).get("/v1/models/{m}/aliases/production", model).then().body("version", equalTo(two));
    }

    /** Two promoters race from the same expected version: exactly one wins, the other learns it lost. */
    @Test
    void letsExactlyOneOfTwoRacingMovesWin() throws Exception {
        String model = Registry.createModel("race");
        int one = Registry.readyImport(model);
        int two = Registry.readyImport(model);
        int three = Registry.readyImport(model);
        Registry.moveAlias(model, "production", one);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> answers = new ArrayList<>();
        for (int target : List.of(two, three)) {
            answers.add(pool.submit(() -> {
                start.await();
                return as(Tokens.admin()).body(Map.of("version", target, "expectedVersion", one))
                        .put("/v1/models/{m}/aliases/production", model).statusCode();
            }));
        }
        start.countDown();
        List<Integer> statuses = new ArrayList<>();
        for (Future<Integer> answer : answers) {
            statuses.add(answer.get());
        }
        pool.shutdown();
        Collections.sort(statuses);
        assertEquals(List.of(200, 409), statuses);
        as(Tokens.reader()).get("/v1/models/{m}/aliases/production", model).then()
                .body("history.size()", equalTo(2));
    }

    @Test
    void refusesAVersionThatIsNotReady() {
        String model = Registry.createModel("unready");
        int pending = Registry.createVersion(model, Map.of("operation", "import"));
        as(Tokens.admin()).body(Map.of("version", pending)).put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(409).body("type", equalTo("urn:emend:problem:version-not-ready"));
        as(Tokens.reader()).get("/v1/models/{m}/aliases/production", model).then().statusCode(404);
        as(Tokens.admin()).body(Map.of("version", 99)).put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(404);
        as(Tokens.admin()).body(Map.of("version", pending)).put("/v1/models/{m}/aliases/{a}", model, "Prod!")
                .then().statusCode(400).body("type", equalTo("urn:emend:problem:invalid-name"));
    }

    @Test
    void letsOnlyAdminsMoveAliases() {
        String model = Registry.createModel("guarded");
        int one = Registry.readyImport(model);
        as(Tokens.writer()).body(Map.of("version", one)).put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(403).contentType("application/problem+json");
        as(Tokens.reader()).body(Map.of("version", one)).put("/v1/models/{m}/aliases/production", model)
                .then().statusCode(403);
        as(Tokens.writer()).post("/v1/models/{m}/aliases/production/rollback", model).then().statusCode(403);
        as(Tokens.reader()).get("/v1/models/{m}/aliases/production", model).then().statusCode(404);
    }
}
