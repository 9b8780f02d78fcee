package io.emend.serving.registry;

import io.emend.serving.model.ModelFiles;
import io.emend.serving.model.ModelSource;
import io.emend.serving.model.ModelUnavailable;
import io.emend.serving.model.ModelVersion;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Versions resolved through the registry and fetched into the {@link ArtifactCache} by digest. */
public final class RegistrySource implements ModelSource {

    private final RegistryClient registry;
    private final ArtifactCache cache;
    private final Optional<String> defaultModel;

    public RegistrySource(RegistryClient registry, ArtifactCache cache, Optional<String> defaultModel) {
        this.registry = registry;
        this.cache = cache;
        this.defaultModel = defaultModel;
    }

    @Override
    public ModelFiles base(String ref) throws IOException {
        return files(ref);
    }

    @Override
    public ModelFiles adapter(String ref) throws IOException {
        return files(ref);
    }

    private ModelFiles files(String ref) throws IOException {
        ResolvedVersion v = registry.resolve(ref);
        if (!"ready".equals(v.state())) {
            throw new ModelUnavailable(ref + " resolves to " + v.model() + ":" + v.number() + ", which is "
                    + v.state() + ", not ready", null);
        }
        if (v.manifest() == null || v.manifest().isEmpty()) {
            throw new ModelUnavailable(v.model() + ":" + v.number() + " has no files", null);
        }
        Path dir = cache.materialize(v.manifest());
        return new ModelFiles(new ModelVersion(v.model(), Optional.of(v.number()), ArtifactCache.digest(v.manifest())),
                dir, Optional.empty());
    }

    @Override
    public Optional<String> defaultModel() {
        return defaultModel;
    }
}
