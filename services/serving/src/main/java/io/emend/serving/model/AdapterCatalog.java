package io.emend.serving.model;

import io.emend.core.delta.LoraDelta;
import io.emend.core.format.MalformedFileException;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.LowRankDelta;
import io.emend.core.infer.Projection;
import io.emend.core.merge.lora.LoraAdapter;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Per-request deltas: PEFT LoRA adapters turned into the engine's low-rank deltas, applied as
 * {@code x·Wq + s·(x·A)·B} over the quantized base without touching it. Loaded once per content digest and kept (an
 * adapter is a few megabytes); sequences with different adapters share a batch.
 */
@ApplicationScoped
public class AdapterCatalog {

    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)layers\\.(\\d+)\\.");

    private final ModelSource source;
    private final Map<String, Adapter> byDigest = new ConcurrentHashMap<>();

    public AdapterCatalog(ModelSource source) {
        this.source = source;
    }

    /**
     * The adapter {@code ref} names, checked against {@code base}.
     *
     * @throws ModelNotFound when there is no such adapter
     * @throws InvalidRequest when it does not fit the base model
     */
    public Adapter adapter(String ref, LoadedModel base) {
        Adapter adapter;
        try {
            ModelFiles files = source.adapter(ref);
            adapter = byDigest.get(files.version().digest());
            if (adapter == null) {
                adapter = toEngine(ref, LoraAdapter.read(files.dir()));
                byDigest.put(files.version().digest(), adapter);
            }
        } catch (MalformedFileException e) {
            throw new InvalidRequest("model", "adapter " + ref + " is not a PEFT LoRA adapter: " + e.getMessage());
        } catch (IOException e) {
            throw new ModelUnavailable("cannot load adapter " + ref + ": " + e.getMessage(), e);
        }
        try {
            base.decoder().check(adapter);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequest("model", "adapter " + ref + " does not fit " + base.version().model() + ": "
                    + e.getMessage());
        }
        return adapter;
    }

    /** PEFT's per-module factors as the engine's deltas, keyed by layer and projection. */
    static Adapter toEngine(String name, LoraAdapter lora) {
        Map<Adapter.Target, List<LowRankDelta>> deltas = new HashMap<>();
        for (LoraDelta d : lora.deltas()) {
            Matcher layer = LAYER.matcher(d.module());
            Projection projection = Projection.fromModulePath(d.module()).orElse(null);
            if (!layer.find() || projection == null) {
                throw new InvalidRequest("model", "adapter " + name + " changes module '" + d.module()
                        + "'; the engine applies deltas to the attention and MLP projections of a layer only");
            }
            deltas.computeIfAbsent(new Adapter.Target(Integer.parseInt(layer.group(1)), projection),
                    t -> new java.util.ArrayList<>())
                    .add(new LowRankDelta(d.a(), d.b(), d.rank(), d.in(), d.out(), (float) d.scale()));
        }
        return new Adapter(name, deltas);
    }
}
