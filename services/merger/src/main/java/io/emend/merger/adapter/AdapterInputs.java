package io.emend.merger.adapter;

import io.emend.core.delta.LoraDelta;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.registry.VersionDetails;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An adapter request's inputs as the registry has them: each reference pinned to its exact version, checked to be an
 * adapter ({@code adapter_config.json} and {@code adapter_model.safetensors}, no {@code config.json}) with an
 * {@code adapter-of} parent, every adapter of one base, the base of a materialization a full model, and the adapters'
 * modules agreeing in shape and admitting the target rank. The adapters themselves are small (factors only), so they
 * are read here, through the verified input cache the job will use again.
 */
public final class AdapterInputs {

    private AdapterInputs() {
    }

    /**
     * The inputs, pinned.
     *
     * @param adapters each adapter reference as written → its exact reference, in request order
     * @param base     the exact reference of the version every adapter is {@code adapter-of}
     */
    public record Pinned(Map<String, String> adapters, String base) {

        /** Every input, adapters then base, as the job records them. */
        public Map<String, String> all() {
            Map<String, String> all = new LinkedHashMap<>(adapters);
            all.putIfAbsent(base, base);
            return all;
        }

        /** Reads the pinned form back from a job's inputs. */
        public static Pinned of(AdapterRequest request, Map<String, String> inputs) {
            Map<String, String> adapters = new LinkedHashMap<>();
            request.adapters().forEach(ref -> adapters.put(ref, inputs.get(ref)));
            String base = inputs.keySet().stream().filter(k -> !adapters.containsKey(k)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("the job's inputs name no base"));
            return new Pinned(adapters, base);
        }
    }

    /**
     * Pins and checks the inputs; {@code scratch} receives links to the adapters' cached files and is left to the
     * caller.
     *
     * @throws io.emend.service.registry.UnknownReference for a reference the registry does not know
     * @throws IncompatibleAdapters                        for inputs that cannot be used as asked
     */
    public static Pinned pin(AdapterRequest request, RegistryClient registry, InputCache cache, Path scratch)
            throws IOException {
        Map<String, String> exact = new LinkedHashMap<>();
        String base = null;
        String firstRef = null;
        List<LoraAdapter> read = new ArrayList<>();
        for (int i = 0; i < request.adapters().size(); i++) {
            String ref = request.adapters().get(i);
            String field = request instanceof AdapterRequest.Materialization ? "adapter" : "adapters[" + i + "].adapter";
            ResolvedVersion version = registry.resolve(ref);
            if (version.file("config.json").isPresent() || version.file(LoraDeltas.WEIGHTS_FILE).isEmpty()
                    || version.file(PeftAdapterConfig.FILE_NAME).isEmpty()) {
                throw new IncompatibleAdapters(field, ref + " is version " + version.exactRef() + ", which is not a"
                        + " LoRA adapter (it needs " + PeftAdapterConfig.FILE_NAME + " and " + LoraDeltas.WEIGHTS_FILE
                        + " and no config.json); full models merge through models:");
            }
            VersionDetails details = registry.version(version.model(), version.number());
            String of = details.parent("adapter-of").map(VersionDetails.ParentLink::exactRef).orElseThrow(() ->
                    new IncompatibleAdapters(field, "adapter " + version.exactRef() + " has no adapter-of parent, so"
                            + " the base it applies to is unknown"));
            if (base == null) {
                base = of;
                firstRef = version.exactRef();
            } else if (!base.equals(of)) {
                throw new IncompatibleAdapters(field, "adapter " + version.exactRef() + " is an adapter of " + of
                        + ", but " + firstRef + " is an adapter of " + base + "; only adapters of one base combine");
            }
            exact.put(ref, version.exactRef());
            try {
                read.add(LoraAdapter.read(cache.materialize(version, scratch.resolve(Integer.toString(i)))));
            } catch (MalformedFileException e) {
                throw new IncompatibleAdapters(field, "adapter " + version.exactRef() + " cannot be read: "
                        + e.getMessage());
            }
        }
        if (request instanceof AdapterRequest.Materialization) {
            ResolvedVersion baseVersion = registry.resolve(base);
            if (baseVersion.file("config.json").isEmpty()) {
                throw new IncompatibleAdapters("adapter", "adapter " + firstRef + " is stacked on " + base + ", which"
                        + " is itself not a full model; materialize " + base + " into its base first");
            }
        }
        if (request instanceof AdapterRequest.Combination c) {
            checkModules(c, read);
        }
        return new Pinned(exact, base);
    }

    /** Modules must have one shape across adapters, and the target rank must fit every module. */
    private static void checkModules(AdapterRequest.Combination request, List<LoraAdapter> adapters) {
        Map<String, LoraDelta> first = new HashMap<>();
        for (int i = 0; i < adapters.size(); i++) {
            for (LoraDelta d : adapters.get(i).deltas()) {
                LoraDelta seen = first.putIfAbsent(d.module(), d);
                if (seen != null && (seen.in() != d.in() || seen.out() != d.out())) {
                    throw new IncompatibleAdapters("adapters[" + i + "].adapter", "module '" + d.module() + "' is ["
                            + d.out() + ", " + d.in() + "] in " + request.adapters().get(i) + " but [" + seen.out()
                            + ", " + seen.in() + "] in an earlier adapter");
                }
            }
        }
        if (request.rank().isPresent()) {
            int rank = request.rank().getAsInt();
            for (LoraDelta d : first.values()) {
                if (rank > Math.min(d.in(), d.out())) {
                    throw new IncompatibleAdapters("parameters.rank", "parameters.rank " + rank + " exceeds what module '"
                            + d.module() + "' [" + d.out() + ", " + d.in() + "] can have (" + Math.min(d.in(), d.out())
                            + ")");
                }
            }
        }
    }
}
