package io.emend.registry.version;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;

import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class VersionResourceTest {

    private static final String DIGEST = "a".repeat(64);

    @Test
    void createsAVersionWithManifestRecipeAndMetrics() {
        String model = Registry.createModel("tiny");
        as(Tokens.writer())
                .body(Map.of("operation", "import", "recipe", Map.of("source", "hf", "revision", "main"),
                        "metrics", Map.of("perplexity", 4.65),
                        "manifest", List.of(Map.of("path", "config.json", "sha256", DIGEST, "size", 12,
                                "mediaType", "application/json"))))
                .post("/v1/models/{m}/versions", model)
                .then().statusCode(201)
                .header("Location", endsWith("/v1/models/" + model + "/versions/1"))
                .body("number", equalTo(1), "model", equalTo(model), "state", equalTo("pending"),
                        "operation", equalTo("import"), "recipe.revision", equalTo("main"),
                        "metrics.perplexity", equalTo(4.65f), "parents", empty(), "id", notNullValue(),
                        "manifest[0].path", equalTo("config.json"), "manifest[0].present", equalTo(false),
                        "manifest[0].mediaType", equalTo("application/json"));

        as(Tokens.writer()).body(Map.of("accuracy", 0.9)).put("/v1/models/{m}/versions/1/metrics", model)
                .then().statusCode(200)
                .body("metrics.perplexity", equalTo(4.65f), "metrics.accuracy", equalTo(0.9f));
        as(Tokens.reader()).get("/v1/models/{m}/versions/1", model).then().statusCode(200)
                .body("metrics.accuracy", equalTo(0.9f));
    }

    @Test
    void numbersVersionsAndFiltersByState() {
        String model = Registry.createModel("numbered");
        int first = Registry.readyImport(model);
        int second = Registry.createVersion(model, Map.of("operation", "finetune",
                "parents", List.of(Map.of("ref", model + ":1", "role", "base"))));
        org.junit.jupiter.api.Assertions.assertEquals(List.of(1, 2), List.of(first, second));
        as(Tokens.reader()).get("/v1/models/{m}/versions", model).then().statusCode(200)
                .body("items.number", contains(1, 2));
        as(Tokens.reader()).queryParam("state", "pending").get("/v1/models/{m}/versions", model)
                .then().statusCode(200).body("items.number", contains(2));
        as(Tokens.reader()).queryParam("state", "bogus").get("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("errors[0].field", equalTo("state"));
    }

    @Test
    void movesThroughStatesAndRefusesIllegalTransitions() {
        String model = Registry.createModel("states");
        int withFile = Registry.createVersion(model, Map.of("operation", "import", "manifest",
                List.of(Map.of("path", "model.safetensors", "sha256", DIGEST, "size", 10))));
        as(Tokens.writer()).body(Map.of("state", "ready")).post("/v1/models/{m}/versions/{n}/state", model, withFile)
                .then().statusCode(409).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:illegal-transition"),
                        "detail", containsString("model.safetensors"));
        as(Tokens.writer()).body(Map.of("state", "failed", "reason", "upload gave up"))
                .post("/v1/models/{m}/versions/{n}/state", model, withFile)
                .then().statusCode(200).body("state", equalTo("failed"), "reason", equalTo("upload gave up"));
        as(Tokens.writer()).body(Map.of("state", "ready")).post("/v1/models/{m}/versions/{n}/state", model, withFile)
                .then().statusCode(409);
        as(Tokens.writer()).body(Map.of("state", "archived")).post("/v1/models/{m}/versions/{n}/state", model, withFile)
                .then().statusCode(200).body("state", equalTo("archived"));
        as(Tokens.writer()).body(Map.of("state", "pending")).post("/v1/models/{m}/versions/{n}/state", model, withFile)
                .then().statusCode(409);
        as(Tokens.writer()).body(Map.of("state", "melted")).post("/v1/models/{m}/versions/{n}/state", model, withFile)
                .then().statusCode(400).body("errors[0].field", equalTo("state"));
    }

    @Test
    void refusesToArchiveAVersionAnAliasPointsAt() {
        String model = Registry.createModel("pinned");
        int number = Registry.readyImport(model);
        Registry.moveAlias(model, "production", number);
        as(Tokens.writer()).body(Map.of("state", "archived")).post("/v1/models/{m}/versions/{n}/state", model, number)
                .then().statusCode(409).body("detail", containsString("production"));
    }

    @Test
    void drawsLineageAsJsonAndMermaid() {
        String base = Registry.createModel("base");
        String chat = Registry.createModel("chat");
        Registry.readyImport(base);
        int tuned = Registry.createVersion(chat, Map.of("operation", "finetune",
                "parents", List.of(Map.of("ref", base, "role", "base"))));
        Registry.ready(chat, tuned);
        int edited = Registry.createVersion(chat, Map.of("operation", "edit",
                "parents", List.of(Map.of("ref", chat + ":1", "role", "edited-from"))));
        int merged = Registry.createVersion(chat, Map.of("operation", "merge", "parents", List.of(
                Map.of("ref", chat + ":" + tuned, "role", "merged-from"),
                Map.of("ref", chat + ":" + edited, "role", "merged-from"))));

        as(Tokens.reader()).queryParam("direction", "ancestors")
                .get("/v1/models/{m}/versions/{n}/lineage", chat, merged)
                .then().statusCode(200)
                .body("root.model", equalTo(chat), "root.number", equalTo(merged),
                        "nodes", hasSize(4), "edges", hasSize(4),
                        "edges.find { it.to.number == 1 && it.to.model == '" + chat + "' }.role", equalTo("base"),
                        "edges.findAll { it.role == 'merged-from' }", hasSize(2));
        as(Tokens.reader()).queryParam("direction", "descendants")
                .get("/v1/models/{m}/versions/1", base).then().statusCode(200);
        as(Tokens.reader()).queryParam("direction", "descendants")
                .get("/v1/models/{m}/versions/1/lineage", base)
                .then().statusCode(200).body("nodes", hasSize(4), "edges", hasSize(4));
        as(Tokens.reader()).queryParam("direction", "ancestors")
                .get("/v1/models/{m}/versions/1/lineage", base)
                .then().statusCode(200).body("nodes", hasSize(1), "edges", empty());

        String mermaid = as(Tokens.reader()).accept("text/vnd.mermaid")
                .get("/v1/models/{m}/versions/{n}/lineage", chat, tuned)
                .then().statusCode(200).contentType(startsWith("text/vnd.mermaid")).extract().asString();
        org.junit.jupiter.api.Assertions.assertTrue(mermaid.startsWith("graph TD\n"), mermaid);
        org.junit.jupiter.api.Assertions.assertTrue(mermaid.contains("-->|base|"), mermaid);
        org.junit.jupiter.api.Assertions.assertTrue(mermaid.contains(chat + ":" + merged), mermaid);
        as(Tokens.reader()).queryParam("format", "mermaid").get("/v1/models/{m}/versions/1/lineage", base)
                .then().statusCode(200).body(startsWith("graph TD"));
        as(Tokens.reader()).queryParam("direction", "sideways").get("/v1/models/{m}/versions/1/lineage", base)
                .then().statusCode(400).body("errors[0].field", equalTo("direction"));
    }

    @Test
    void refusesBadParentsAndWritesNothing() {
        String model = Registry.createModel("orphan");
        as(Tokens.writer()).body(Map.of("operation", "finetune",
                "parents", List.of(Map.of("ref", "Not A Ref", "role", "base"))))
                .post("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("type", equalTo("urn:emend:problem:invalid-reference"),
                        "errors[0].field", equalTo("parents[0].ref"));
        as(Tokens.writer()).body(Map.of("operation", "finetune",
                "parents", List.of(Map.of("ref", "nobody:3", "role", "base"))))
                .post("/v1/models/{m}/versions", model)
                .then().statusCode(422).body("type", equalTo("urn:emend:problem:parent-not-found"));
        as(Tokens.writer()).body(Map.of("operation", "finetune",
                "parents", List.of(Map.of("ref", model, "role", "grandparent"))))
                .post("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("errors[0].field", equalTo("parents[0].role"));
        as(Tokens.writer()).body(Map.of("operation", "finetune")).post("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("type", equalTo("urn:emend:problem:invalid-parents"));
        as(Tokens.writer()).body(Map.of("operation", "teleport")).post("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("errors[0].field", equalTo("operation"));
        as(Tokens.reader()).get("/v1/models/{m}/versions", model).then().body("items", empty());
    }

    @Test
    void refusesPathTraversalAndBadDigestsInTheManifest() {
        String model = Registry.createModel("traversal");
        for (String path : List.of("../etc/passwd", "/abs/path", "a/../../b", "a//b", "dir/./x", "back\\slash")) {
            as(Tokens.writer()).body(Map.of("operation", "import", "manifest",
                    List.of(Map.of("path", path, "sha256", DIGEST, "size", 1))))
                    .post("/v1/models/{m}/versions", model)
                    .then().statusCode(400).contentType("application/problem+json")
                    .body("type", equalTo("urn:emend:problem:invalid-artifact-path"),
                            "errors[0].field", equalTo("manifest[0].path"));
        }
        as(Tokens.writer()).body(Map.of("operation", "import", "manifest",
                List.of(Map.of("path", "x.bin", "sha256", "XYZ", "size", 1))))
                .post("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("errors[0].field", equalTo("manifest[0].sha256"));
        as(Tokens.writer()).body(Map.of("operation", "import", "manifest", List.of(
                Map.of("path", "x.bin", "sha256", DIGEST, "size", 1),
                Map.of("path", "x.bin", "sha256", DIGEST, "size", 1))))
                .post("/v1/models/{m}/versions", model)
                .then().statusCode(400).body("type", equalTo("urn:emend:problem:duplicate-path"));
        as(Tokens.reader()).get("/v1/models/{m}/versions", model).then().body("items", empty());
    }

    @Test
    void refusesADuplicateVersionNumber() {
        String model = Registry.createModel("retry");
        as(Tokens.writer()).body(Map.of("operation", "import", "number", 1)).post("/v1/models/{m}/versions", model)
                .then().statusCode(201).body("number", equalTo(1));
        as(Tokens.writer()).body(Map.of("operation", "import", "number", 1)).post("/v1/models/{m}/versions", model)
                .then().statusCode(409).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:version-exists"), "detail", containsString("already exists"));
        as(Tokens.reader()).get("/v1/models/{m}/versions", model).then().body("items", hasSize(1));
        as(Tokens.reader()).get("/v1/models/{m}/versions/7", model).then().statusCode(404)
                .body("type", equalTo("urn:emend:problem:version-not-found"));
    }
}
