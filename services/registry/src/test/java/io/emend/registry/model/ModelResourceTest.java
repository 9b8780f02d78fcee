package io.emend.registry.model;

import static io.emend.registry.Registry.as;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;

import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ModelResourceTest {

    @Test
    void createsReadsListsAndArchivesAModel() {
        String name = Registry.uniqueName("llama");
        as(Tokens.writer())
                .body(Map.of("name", name, "description", "a base model", "family", "llama",
                        "tags", List.of("base", "chat")))
                .post("/v1/models")
                .then().statusCode(201)
                .header("Location", endsWith("/v1/models/" + name))
                .body("name", equalTo(name), "family", equalTo("llama"), "tags", contains("base", "chat"),
                        "archived", equalTo(false), "createdAt", notNullValue());

        as(Tokens.reader()).get("/v1/models/{m}", name)
                .then().statusCode(200).body("description", equalTo("a base model"));

        as(Tokens.reader()).queryParam("tag", "chat").queryParam("size", 100).get("/v1/models")
                .then().statusCode(200)
                .body("items.name", hasItem(name), "items.tags", everyItem(hasItem("chat")), "page", equalTo(0),
                        "size", equalTo(100));

        as(Tokens.writer()).delete("/v1/models/{m}", name).then().statusCode(204);
        as(Tokens.reader()).get("/v1/models/{m}", name).then().statusCode(200).body("archived", equalTo(true));
        as(Tokens.writer()).body(Map.of("operation", "import")).post("/v1/models/{m}/versions", name)
                .then().statusCode(409).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:model-archived"));
    }

    @Test
    void pagesThroughModels() {
        String tag = Registry.uniqueName("page");
        for (int i = 0; i < 3; i++) {
            as(Tokens.writer()).body(Map.of("name", tag + "-" + i, "tags", List.of(tag))).post("/v1/models")
                    .then().statusCode(201);
        }
        as(Tokens.reader()).queryParam("tag", tag).queryParam("page", 1).queryParam("size", 2).get("/v1/models")
                .then().statusCode(200)
                .body("items.name", contains(tag + "-2"), "total", equalTo(3), "page", equalTo(1), "size", equalTo(2));
    }

    @Test
    void refusesAnInvalidNameAndWritesNothing() {
        as(Tokens.writer()).body(Map.of("name", "Bad Name!")).post("/v1/models")
                .then().statusCode(400).contentType("application/problem+json")
                .body("status", equalTo(400), "title", equalTo("Bad Request"), "instance", equalTo("/v1/models"),
                        "errors[0].field", equalTo("name"), "errors[0].message", startsWith("must match"));
        as(Tokens.reader()).get("/v1/models/{m}", "bad-name").then().statusCode(404);
        as(Tokens.reader()).get("/v1/models/{m}", "Bad_Name").then().statusCode(400)
                .body("type", equalTo("urn:emend:problem:invalid-name"));
    }

    @Test
    void refusesADuplicateModel() {
        String name = Registry.createModel("dup");
        as(Tokens.writer()).body(Map.of("name", name, "description", "second")).post("/v1/models")
                .then().statusCode(409).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:model-exists"), "detail", equalTo(
                        "model '" + name + "' already exists"));
        as(Tokens.reader()).get("/v1/models/{m}", name).then().body("description", equalTo(null));
    }

    @Test
    void refusesMalformedJson() {
        as(Tokens.writer()).body("{\"name\": ").post("/v1/models")
                .then().statusCode(400).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:malformed-json"));
        as(Tokens.writer()).body(Map.of("name", "x", "tags", "not-a-list")).post("/v1/models")
                .then().statusCode(400).contentType("application/problem+json")
                .body("errors[0].field", equalTo("tags"));
    }

    @Test
    void refusesABodyTooLargeAndWritesNothing() {
        String name = Registry.uniqueName("huge");
        String description = "x".repeat(1024 * 1024 + 1);
        as(Tokens.writer()).body(Map.of("name", name, "description", description)).post("/v1/models")
                .then().statusCode(413).contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:body-too-large"), "status", equalTo(413));
        as(Tokens.reader()).get("/v1/models/{m}", name).then().statusCode(404);
    }

    @Test
    void answersUnknownRoutesAndModelsWithProblems() {
        as(Tokens.reader()).get("/v1/nothing-here").then().statusCode(404).contentType("application/problem+json");
        as(Tokens.reader()).get("/v1/models/{m}", "no-such-model").then().statusCode(404)
                .contentType("application/problem+json")
                .body("type", equalTo("urn:emend:problem:model-not-found"),
                        "instance", equalTo("/v1/models/no-such-model"));
    }

    @Test
    void needsATokenAndTheRightRole() {
        given().contentType(ContentType.JSON).get("/v1/models")
                .then().statusCode(401).contentType("application/problem+json")
                .header("WWW-Authenticate", startsWith("Bearer"));
        given().auth().oauth2("not-a-jwt").get("/v1/models").then().statusCode(401)
                .contentType("application/problem+json");
        String name = Registry.uniqueName("denied");
        as(Tokens.reader()).body(Map.of("name", name)).post("/v1/models")
                .then().statusCode(403).contentType("application/problem+json").body("status", equalTo(403));
        as(Tokens.token("eve", "intern")).get("/v1/models").then().statusCode(403);
        as(Tokens.admin()).get("/v1/models/{m}", name).then().statusCode(404);
    }

    @Test
    void leavesHealthAndOpenApiOpen() {
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
        given().accept(ContentType.JSON).get("/q/openapi").then().statusCode(200)
                .body("paths", notNullValue(), "paths.keySet()", hasItem("/v1/models"));
        given().get("/q/metrics").then().statusCode(200);
    }
}
