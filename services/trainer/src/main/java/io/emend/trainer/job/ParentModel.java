package io.emend.trainer.job;

import io.emend.core.delta.LoraDeltas;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.registry.VersionDetails;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The parent of a fine-tune laid out on disk: the full model at the root of its lineage and the adapters stacked on
 * it. A parent that is itself an adapter version (a fine-tune of a fine-tune, as the retraining loop makes) has no
 * weights of its own; its {@code adapter-of} parents are followed until a version with {@code config.json}, and the
 * adapters met on the way are applied frozen on top of it, oldest first. The new adapter then trains on top of the
 * parent exactly as serving composes it, and O-LoRA keeps it orthogonal to them.
 *
 * @param baseDir     the full model's directory (config, tokenizer, safetensors)
 * @param baseRef     the full model's exact reference
 * @param adapterDirs PEFT adapters between the base and the parent, oldest first (the parent's last)
 */
public record ParentModel(Path baseDir, String baseRef, List<Path> adapterDirs) {

    /** A lineage longer than this is surely a cycle in the registry's answers, not a real chain. */
    private static final int MAX_DEPTH = 64;

    public ParentModel {
        adapterDirs = List.copyOf(adapterDirs);
    }

    /** Fetches the parent {@code exactRef} and its lineage into {@code dir}. */
    public static ParentModel fetch(RegistryClient registry, InputCache cache, String exactRef, Path dir)
            throws IOException {
        List<Path> adapters = new ArrayList<>();
        ResolvedVersion version = registry.resolve(exactRef);
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            Path at = cache.materialize(version, dir.resolve(Integer.toString(depth)));
            if (version.file("config.json").isPresent()) {
                Collections.reverse(adapters);
                return new ParentModel(at, version.exactRef(), adapters);
            }
            if (version.file(LoraDeltas.WEIGHTS_FILE).isEmpty()) {
                throw new RegistryUnavailable("version " + version.exactRef() + " has neither config.json nor "
                        + LoraDeltas.WEIGHTS_FILE + "; it is not a model or an adapter the trainer can fine-tune");
            }
            adapters.add(at);
            VersionDetails details = registry.version(version.model(), version.number());
            VersionDetails.ParentLink base = details.parent("adapter-of").orElseThrow(() -> new RegistryUnavailable(
                    "adapter version " + details.exactRef() + " has no adapter-of parent to apply it to"));
            version = registry.resolve(base.exactRef());
        }
        throw new RegistryUnavailable("the lineage of " + exactRef + " is more than " + MAX_DEPTH + " adapters deep");
    }

    /** The stacked adapters, read. */
    public List<LoraDeltas> adapters() throws IOException {
        List<LoraDeltas> out = new ArrayList<>();
        for (Path p : adapterDirs) {
            out.add(LoraDeltas.read(p));
        }
        return out;
    }
}
