package io.emend.registry;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** A small client of the registry for tests: the calls that set up a scenario, each asserting its own status. */
public final class Registry {

    private Registry() {
    }

    public static RequestSpecification as(String token) {
        return given().auth().oauth2(token).contentType(ContentType.JSON);
    }

    /** A model name no other test uses. */
    public static String uniqueName(String prefix) {
        return prefix + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    }

    public static String createModel(String prefix) {
        String name = uniqueName(prefix);
        as(Tokens.writer()).body(Map.of("name", name, "tags", List.of("test"))).post("/v1/models")
                .then().statusCode(201);
        return name;
    }

    /** Creates a version and returns its number. */
    public static int createVersion(String model, Map<String, ?> body) {
        return as(Tokens.writer()).body(body).post("/v1/models/{m}/versions", model)
                .then().statusCode(201).extract().path("number");
    }

    /** An import version without files, ready at once. */
    public static int readyImport(String model) {
        int number = createVersion(model, Map.of("operation", "import", "recipe", Map.of("source", "test")));
        ready(model, number);
        return number;
    }

    public static void ready(String model, int number) {
        as(Tokens.writer()).body(Map.of("state", "ready")).post("/v1/models/{m}/versions/{n}/state", model, number)
                .then().statusCode(200);
    }

    public static void moveAlias(String model, String alias, int version) {
        as(Tokens.admin()).body(Map.of("version", version)).put("/v1/models/{m}/aliases/{a}", model, alias)
                .then().statusCode(200);
    }
}
