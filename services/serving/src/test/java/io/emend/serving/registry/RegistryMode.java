package io.emend.serving.registry;

import io.emend.contracts.event.Topics;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditRequest;
import io.emend.serving.Fixtures;
import io.emend.stack.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Serving in registry mode: no standalone directory, the default model {@code stories@production} resolved through a
 * registry, alias moves read from a real Kafka broker.
 */
public class RegistryMode implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("emend.serving.standalone.model-dir", "",
                "emend.serving.default-model", "stories@production",
                "emend.serving.registry.token", TestRegistry.TOKEN,
                "emend.serving.registry.cache-dir", "target/registry-cache-" + UUID.randomUUID());
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(Resources.class));
    }

    /**
     * Starts the broker and the registry; version 1 is stories260k, version 2 a perturbed copy, 3 a corrupt copy, 4
     * and 5 edit versions of 1; production → 1, edits → 4.
     */
    public static class Resources implements QuarkusTestResourceLifecycleManager {

        static TestRegistry registry;
        static KafkaBroker broker;
        static Path versionB;
        static EditDelta editA;
        static EditDelta editB;

        /** Where edit version 4 (one edit) or 5 (two edits) lies, materialized weights and factors. */
        static Path editDir(int number) {
            return Path.of("target", "registry-mode", number == 4 ? "stories-edit-a" : "stories-edit-b");
        }

        @Override
        public Map<String, String> start() {
            try {
                broker = new KafkaBroker(KafkaBroker.Config.of(Files.createTempDirectory("emend-serving-kafka")));
                broker.start();
                Properties settings = new Properties();
                settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
                try (Admin admin = Admin.create(settings)) {
                    admin.createTopics(List.of(new NewTopic(Topics.ALIASES, 3, (short) 1))).all().get();
                }
                registry = new TestRegistry("stories");
                versionB = Fixtures.perturbedStories(Path.of("target", "registry-mode", "stories-v2"));
                registry.addVersion(1, Fixtures.stories());
                registry.addVersion(2, versionB);
                registry.addCorruptVersion(3, versionB, "model.safetensors", Fixtures.stories().resolve("model.safetensors"));
                registry.moveAlias("production", 1);
                // two edit versions of version 1 made by core's MEMIT as the editor makes them; "edits" → 4
                editA = Fixtures.memitEdit(Fixtures.stories(), Path.of("target", "registry-mode", "stories-edit-a"),
                        List.of(EditRequest.of("Lily liked to eat", "Lily", "rocks")));
                editB = Fixtures.memitEdit(Fixtures.stories(), Path.of("target", "registry-mode", "stories-edit-b"),
                        List.of(EditRequest.of("Lily liked to eat", "Lily", "rocks"),
                                EditRequest.of("Tom went to the", "Tom", "moon")));
                registry.addEditVersion(4, editDir(4), "memit", "stories:1");
                registry.addEditVersion(5, editDir(5), "memit", "stories:1");
                registry.moveAlias("edits", 4);
                return Map.of("emend.serving.registry.url", registry.url(),
                        "emend.serving.aliases.bootstrap-servers", broker.bootstrapServers());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (Exception e) {
                throw new IllegalStateException("the registry-mode test resources did not start", e);
            }
        }

        @Override
        public void stop() {
            if (registry != null) {
                registry.close();
            }
            if (broker != null) {
                broker.close();
            }
        }
    }
}
