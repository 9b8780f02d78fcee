package io.emend.cli.stack;

import io.emend.cli.Workspace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the stack configures each service: defaults under the workspace, PostgreSQL and S3 when the environment says. */
class LocalStackTest {

    @TempDir
    Path data;

    private LocalStack.ServiceConfig configOf(Component c, Map<String, String> environment) {
        Workspace workspace = new Workspace(data, data);
        return new LocalStack(workspace, new LocalStack.Settings(new StackPorts(18080), Duration.ofMinutes(1),
                List.of(), new StackEnvironment(environment))).configOf(c);
    }

    @Test
    void registryDefaultsToTheWorkspacesH2FileObjectDirectoryBrokerAndKey() {
        Map<String, String> p = configOf(Component.REGISTRY, Map.of()).properties();
        assertEquals("18081", p.get("quarkus.http.port"));
        assertEquals("127.0.0.1", p.get("quarkus.http.host"));
        assertEquals(data.resolve("db/registry").toString(), p.get("emend.db.h2-path"));
        assertEquals(data.resolve("objects").toString(), p.get("emend.registry.object-store.root"));
        assertEquals("127.0.0.1:19092", p.get("emend.registry.relay.bootstrap-servers"));
        assertEquals(data.resolve("keys/public.pem").toString(), p.get("mp.jwt.verify.publickey.location"));
        assertEquals("emend", p.get("mp.jwt.verify.issuer"));
    }

    @Test
    void postgresAndS3ComeFromTheEnvironmentWithSecretsKeptOffTheCommandLine() {
        LocalStack.ServiceConfig config = configOf(Component.REGISTRY, Map.of(
                "EMEND_DB_URL", "jdbc:postgresql://127.0.0.1:5432/emend",
                "EMEND_DB_USERNAME", "postgres",
                "EMEND_DB_PASSWORD", "hunter2",
                "EMEND_S3_BUCKET", "models",
                "EMEND_S3_ENDPOINT", "http://127.0.0.1:9000",
                "EMEND_S3_SECRET_KEY", "s3cret"));
        assertEquals("jdbc:postgresql://127.0.0.1:5432/emend", config.environment().get("EMEND_DB_URL"));
        assertEquals("postgres", config.environment().get("EMEND_DB_USERNAME"));
        assertFalse(config.properties().containsKey("emend.db.h2-path"));
        assertEquals("s3", config.properties().get("emend.registry.object-store.kind"));
        assertEquals("models", config.properties().get("emend.registry.object-store.s3.bucket"));
        assertEquals("hunter2", config.environment().get("EMEND_DB_PASSWORD"));
        assertEquals("s3cret", config.environment().get("EMEND_REGISTRY_OBJECT_STORE_S3_SECRET_KEY"));
        assertFalse(config.properties().containsValue("hunter2"));
        assertFalse(config.properties().containsValue("s3cret"));
    }

    @Test
    void aDatabaseUrlThatIsNotPostgresIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> configOf(Component.REGISTRY, Map.of("EMEND_DB_URL", "postgres://localhost/emend")));
        assertTrue(e.getMessage().startsWith("EMEND_DB_URL must be a PostgreSQL JDBC URL such as jdbc:postgresql://"), e.getMessage());
    }

    @Test
    void theEditorFindsTheRegistrySigningKeyAndItsDirectoriesInTheWorkspace() {
        Map<String, String> p = configOf(Component.EDITOR, Map.of()).properties();
        assertEquals("18083", p.get("quarkus.http.port"));
        assertEquals("http://localhost:18081", p.get("emend.editor.registry.url"));
        assertEquals(data.resolve("keys/private.pem").toString(), p.get("emend.editor.registry.signing-key"));
        assertEquals(data.resolve("db/editor").toString(), p.get("emend.editor.db.h2-path"));
        assertEquals(data.resolve("editor/cache").toString(), p.get("emend.editor.storage.cache-dir"));
        assertEquals(data.resolve("editor/work").toString(), p.get("emend.editor.storage.work-dir"));
        assertEquals("127.0.0.1:19092", p.get("kafka.bootstrap.servers"));
    }

    @Test
    void theTrainerFindsTheRegistryItsDirectoriesAndTheObjectStoreInTheWorkspace() {
        Map<String, String> p = configOf(Component.TRAINER, Map.of()).properties();
        assertEquals("18082", p.get("quarkus.http.port"));
        assertEquals("http://localhost:18081", p.get("emend.trainer.registry.url"));
        assertEquals(data.resolve("keys/private.pem").toString(), p.get("emend.trainer.registry.signing-key"));
        assertEquals(data.resolve("db/trainer").toString(), p.get("emend.trainer.db.h2-path"));
        assertEquals(data.resolve("trainer/cache").toString(), p.get("emend.trainer.storage.cache-dir"));
        assertEquals(data.resolve("trainer/work").toString(), p.get("emend.trainer.storage.work-dir"));
        assertEquals(data.resolve("objects").toString(), p.get("emend.trainer.object-store.root"));
    }

    @Test
    void otherServicesGetTheirPortBrokerAndKeyButNoRegistryKeys() {
        Map<String, String> p = configOf(Component.SERVING, Map.of()).properties();
        assertEquals("18085", p.get("quarkus.http.port"));
        assertEquals("127.0.0.1:19092", p.get("kafka.bootstrap.servers"));
        assertTrue(p.keySet().stream().noneMatch(k -> k.startsWith("emend.registry.")),
                "SmallRye Config rejects unknown keys under a mapping's prefix, so a service only gets its own: " + p);
    }
}
