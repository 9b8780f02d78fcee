package io.emend.registry.artifact;

import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.ObjectStore;
import io.emend.contracts.store.S3ObjectStore;
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
                case S3 -> S3ObjectStore.open(s3(store.s3()));
            };
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the " + store.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + " object store", e);
        }
    }

    private static S3ObjectStore.Config s3(RegistryConfig.S3Config s3) {
        if (s3.endpoint().isEmpty()) {
            return S3ObjectStore.Config.aws(s3.bucket(), s3.region());
        }
        return S3ObjectStore.Config.compatible(s3.endpoint().get(), s3.bucket(),
                s3.accessKey().orElseThrow(() -> new IllegalStateException(
                        "emend.registry.object-store.s3.access-key is required with an endpoint")),
                s3.secretKey().orElseThrow(() -> new IllegalStateException(
                        "emend.registry.object-store.s3.secret-key is required with an endpoint")));
    }

    void close(@Disposes ObjectStore store) {
        store.close();
    }
}
