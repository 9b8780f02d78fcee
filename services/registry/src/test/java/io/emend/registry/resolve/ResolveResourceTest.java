package io.emend.registry.resolve;

import static io.emend.registry.Registry.as;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import io.agroal.api.AgroalDataSource;
import io.emend.registry.Registry;
import io.emend.registry.Tokens;
import io.quarkus.arc.InjectableInstance;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.enterprise.inject.Any;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
class ResolveResourceTest {

    @Inject
    @Any
    InjectableInstance<AgroalDataSource> dataSources;

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

    @Test
    void resolvesAnAliasToTheVersionWithItsWholeManifest() {
        String model = Registry.createModel("manifest");
        int parent = Registry.readyImport(model);
        int child = aliasedFineTune(model, parent);

        as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(200)
                .body("number", equalTo(child), "alias", equalTo("production"), "operation", equalTo("finetune"),
                        "manifest.path", equalTo(List.of("config.json", "model.safetensors")),
                        "manifest.present", equalTo(List.of(true, true)));
        as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, child).then().statusCode(200)
                .body("parents.number", equalTo(List.of(parent)), "parents.role", equalTo(List.of("base")),
                        "manifest.size()", equalTo(2));
    }

    /**
     * A read takes one pooled connection at a time. Reads used to hold one while taking another for a version's
     * manifest and parents, a model's tags or an alias's history, so once as many reads ran at once as the pool had
     * connections, each waited out the acquisition timeout and answered 500. With all connections but one taken,
     * that showed on every such read.
     */
    @Test
    void readsWithASingleFreeConnection() throws Exception {
        String model = Registry.createModel("one-connection");
        int child = aliasedFineTune(model, Registry.readyImport(model));
        AgroalDataSource pool = dataSources.getActive();
        List<Connection> taken = new ArrayList<>();
        try {
            for (int i = 1; i < pool.getConfiguration().connectionPoolConfiguration().maxSize(); i++) {
                taken.add(pool.getConnection());
            }
            as(Tokens.reader()).get("/v1/resolve/{r}", model + "@production").then().statusCode(200)
                    .body("number", equalTo(child), "manifest.size()", equalTo(2));
            as(Tokens.reader()).get("/v1/models/{m}/versions/{n}", model, child).then().statusCode(200)
                    .body("parents.size()", equalTo(1), "manifest.size()", equalTo(2));
            as(Tokens.reader()).get("/v1/models/{m}/versions", model).then().statusCode(200)
                    .body("items.size()", equalTo(2));
            as(Tokens.reader()).get("/v1/models/{m}", model).then().statusCode(200)
                    .body("tags", equalTo(List.of("test")));
            as(Tokens.reader()).get("/v1/models/{m}/aliases/{a}", model, "production").then().statusCode(200)
                    .body("version", equalTo(child), "history.size()", equalTo(1));
        } finally {
            for (Connection connection : taken) {
                connection.close();
            }
        }
    }

    /** A fine-tune of {@code parent} with two uploaded files, ready and aliased {@code production}. */
    private static int aliasedFineTune(String model, int parent) {
        Map<String, byte[]> files = Map.of(
                "config.json", "{\"model_type\":\"llama\"}".getBytes(StandardCharsets.UTF_8),
                "model.safetensors", (model + " weights").getBytes(StandardCharsets.UTF_8));
        List<Map<String, Object>> manifest = new ArrayList<>();
        files.forEach((path, bytes) -> manifest.add(Map.of("path", path, "sha256", sha256(bytes), "size",
                bytes.length)));
        int child = Registry.createVersion(model, Map.of("operation", "finetune", "manifest", manifest,
                "parents", List.of(Map.of("ref", model + ":" + parent, "role", "base"))));
        for (var file : files.entrySet()) {
            as(Tokens.writer()).header("X-Emend-Sha256", sha256(file.getValue()))
                    .contentType("application/octet-stream").body(file.getValue())
                    .put("/v1/models/{m}/versions/{n}/artifacts/{p}", model, child, file.getKey())
                    .then().statusCode(201);
        }
        Registry.ready(model, child);
        Registry.moveAlias(model, "production", child);
        return child;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
