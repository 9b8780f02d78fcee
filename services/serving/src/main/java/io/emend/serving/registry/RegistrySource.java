package io.emend.serving.registry;

import io.emend.core.delta.EditDelta;
import io.emend.serving.model.DeltaFiles;
import io.emend.serving.model.ModelFiles;
import io.emend.serving.model.ModelSource;
import io.emend.serving.model.ModelUnavailable;
import io.emend.serving.model.ModelVersion;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** Versions resolved through the registry and fetched into the {@link ArtifactCache} by digest. */
public final class RegistrySource implements ModelSource {

    /** An edit version's factors (services/editor's artifact, core's {@link EditDelta} layout). */
    static final String EDIT_DELTA = EditDelta.FILE_NAME;

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
        ResolvedVersion v = ready(ref);
        return new ModelFiles(version(v), cache.materialize(v.manifest()), Optional.empty());
    }

    /**
     * A PEFT adapter version as a whole; an edit version as its factors only (the one file {@value #EDIT_DELTA},
     * not its materialized weights), to be applied to its edit base and nothing else.
     */
    @Override
    public DeltaFiles delta(String ref) throws IOException {
        ResolvedVersion v = ready(ref);
        Optional<ResolvedVersion.Entry> factors = editFactors(v);
        if (factors.isEmpty()) {
            return new DeltaFiles(version(v), cache.materialize(v.manifest()), Optional.empty());
        }
        return new DeltaFiles(version(v), cache.materialize(List.of(factors.get())), Optional.of(editBase(v)));
    }

    @Override
    public Optional<EditOverBase> editOverBase(String ref) throws IOException {
        ResolvedVersion v = ready(ref);
        Optional<ResolvedVersion.Entry> factors = editFactors(v);
        if (factors.isEmpty()) {
            return Optional.empty();
        }
        ModelVersion baseVersion = editBase(v);
        ModelFiles base = base(baseVersion.model() + ":" + baseVersion.number().orElseThrow());
        return Optional.of(new EditOverBase(base, new DeltaFiles(version(v), cache.materialize(List.of(factors.get())),
                Optional.of(base.version()))));
    }

    /** The factor file of an edit version, if {@code v} is one. */
    private static Optional<ResolvedVersion.Entry> editFactors(ResolvedVersion v) {
        if (!"edit".equals(v.operation())) {
            return Optional.empty();
        }
        return v.manifest().stream().filter(e -> e.path().equals(EDIT_DELTA)).findFirst();
    }

    /** The version an edit version's factors were computed over, from its recipe. */
    private ModelVersion editBase(ResolvedVersion edit) throws IOException {
        String baseRef = registry.recipeBase(edit.model(), edit.number()).orElseThrow(() -> new ModelUnavailable(
                edit.model() + ":" + edit.number() + " is an edit version whose recipe names no base", null));
        return version(ready(baseRef));
    }

    private ResolvedVersion ready(String ref) throws IOException {
        ResolvedVersion v = registry.resolve(ref);
        if (!"ready".equals(v.state())) {
            throw new ModelUnavailable(ref + " resolves to " + v.model() + ":" + v.number() + ", which is "
                    + v.state() + ", not ready", null);
        }
        if (v.manifest() == null || v.manifest().isEmpty()) {
            throw new ModelUnavailable(v.model() + ":" + v.number() + " has no files", null);
        }
        return v;
    }

    private static ModelVersion version(ResolvedVersion v) {
        return new ModelVersion(v.model(), Optional.of(v.number()), ArtifactCache.digest(v.manifest()));
    }

    @Override
    public Optional<String> defaultModel() {
        return defaultModel;
    }
}
