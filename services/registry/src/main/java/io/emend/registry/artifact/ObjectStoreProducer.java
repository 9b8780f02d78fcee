package io.emend.registry.artifact;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectStore;
import io.emend.registry.RegistryConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Opens the object store that {@code emend.registry.object-store.*} names, once, and closes it at shutdown. */
@ApplicationScoped
public class ObjectStoreProducer {

    @Produces
    @ApplicationScoped
    ObjectStore objectStore(RegistryConfig config) {
        RegistryConfig.ObjectStoreConfig store = config.objectStore();
        try {
            return switch (store.kind()) {
                case FILESYSTEM -> FilesystemObjectStore.open(store.root());
            };
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the object store at " + store.root(), e);
        }
    }

    void close(@Disposes ObjectStore store) {
        store.close();
    }
}
