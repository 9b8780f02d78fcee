package io.emend.serving.model;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectStore;
import io.emend.serving.ServingConfig;
import io.emend.serving.registry.ArtifactCache;
import io.emend.serving.registry.RegistryClient;
import io.emend.serving.registry.RegistrySource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Chooses where models come from: the standalone directory when one is configured, otherwise the registry. */
@ApplicationScoped
public class ModelSourceProducer {

    @Produces
    @ApplicationScoped
    ModelSource source(ServingConfig config) throws IOException {
        ServingConfig.Standalone standalone = config.standalone();
        if (standalone.modelDir().isPresent()) {
            Path dir = standalone.modelDir().get().toAbsolutePath().normalize();
            String name = standalone.name().orElse(dir.getFileName().toString());
            ModelName.checkReference("emend.serving.standalone.name", name);
            return new StandaloneSource(name, dir, standalone.weightsFile(), standalone.adapters());
        }
        ServingConfig.Registry registry = config.registry();
        RegistryClient client = new RegistryClient(registry.url(), registry.token(), registry.timeout());
        Optional<ObjectStore> store = registry.objectStoreDir().isPresent()
                ? Optional.of(FilesystemObjectStore.open(registry.objectStoreDir().get())) : Optional.empty();
        return new RegistrySource(client, new ArtifactCache(registry.cacheDir(), client, store), config.defaultModel());
    }
}
