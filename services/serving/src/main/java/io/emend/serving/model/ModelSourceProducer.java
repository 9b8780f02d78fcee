package io.emend.serving.model;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectStore;
import io.emend.core.infer.Decoder;
import io.emend.serving.ServingConfig;
import io.emend.serving.registry.ArtifactCache;
import io.emend.serving.registry.RegistryClient;
import io.emend.serving.registry.RegistrySource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.nio.file.Files;
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
            Optional<String> weightsFile = standalone.weightsFile();
            String defaultName = dir.getFileName().toString();
            if (defaultName.endsWith(Decoder.GGUF_SUFFIX) && !Files.isDirectory(dir)) {
                // model-dir names a GGUF file: serve it from its directory, named after the file
                weightsFile = Optional.of(defaultName);
                defaultName = defaultName.substring(0, defaultName.length() - Decoder.GGUF_SUFFIX.length());
                dir = dir.getParent();
            }
            String name = standalone.name().orElse(defaultName);
            ModelName.checkReference("emend.serving.standalone.name", name);
            return new StandaloneSource(name, dir, weightsFile, standalone.adapters());
        }
        ServingConfig.Registry registry = config.registry();
        RegistryClient client = new RegistryClient(registry.url(), registry.token(), registry.timeout());
        Optional<ObjectStore> store = registry.objectStoreDir().isPresent()
                ? Optional.of(FilesystemObjectStore.open(registry.objectStoreDir().get())) : Optional.empty();
        return new RegistrySource(client, new ArtifactCache(registry.cacheDir(), client, store), config.defaultModel());
    }
}
