package io.emend.registry.resolve;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.test.junit.QuarkusTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ResolveResourceTest {

    @Test
    void resolvesNamesAliasesAndNumbers() {
        String model = Registry.createModel("resolve");
        int one = Registry.readyImport(model);
        int two = Registry.readyImport(model);
        int pending = Registry.createVersion(model, Map.of("operation", "import"));
        Registry.moveAlias(model, "production", one);

        as(Tokens.reader()).get("/v1/resolve/{r}", model).then().statusCode(200)
                .body("model", equalTo(model), "number", equalTo(two), "state", equalTo("ready"),
                        "id", notNullValue(), "alias", nullValue(), "manifest.size()", equalTo(0));
        as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(200)
                .body("number", equalTo(one), "alias", equalTo("production"));
        as(Tokens.reader()).get("/v1/resolve/{r}", model + ":" + pending).then().statusCode(200)
                .body("number", equalTo(pending), "state", equalTo("pending"), "operation", equalTo("import"));
    }

    @Test
    void answersNothingMatchesAndBadReferences() {
        String model = Registry.createModel("unresolved");
        Registry.createVersion(model, Map.of("operation", "import"));
        as(Tokens.reader()).get("/v1/resolve/{r}", model).then().statusCode(404)
                .contentType("application/problem+json").body("type", equalTo("urn:emend:problem:reference-not-found"));
        as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(404);
        as(Tokens.reader()).get("/v1/resolve/{r}", model + ":9").then().statusCode(404);
        as(Tokens.reader()).get("/v1/resolve/{r}", "no-such-model").then().statusCode(404);
        as(Tokens.reader()).get("/v1/resolve/{r}", model + ":zero").then().statusCode(400)
                .body("type", equalTo("urn:emend:problem:invalid-reference"), "errors[0].field", equalTo("ref"));
        as(Tokens.reader()).get("/v1/resolve/{r}", "a@b:1").then().statusCode(400);
    }
}
