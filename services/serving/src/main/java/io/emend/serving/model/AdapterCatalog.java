package io.emend.serving.model;

import io.emend.core.delta.EditDelta;
import io.emend.core.delta.LoraDelta;
import io.emend.core.edit.ServedDelta;
import io.emend.core.format.MalformedFileException;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.LowRankDelta;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.serving.ServingConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Per-request deltas, applied as {@code x·Wq + s·(x·A)·B} over the quantized base without touching it: PEFT LoRA
 * adapters and edit versions' factors ({@code U Vᵀ} per edited projection, see {@link ServedDelta}), on the Llama
 * family and GPT-2. A delta is loaded on the first request that names it and kept by reference; it is unloaded when
 * no request has named it for {@code emend.serving.deltas.idle-unload}, or at once when the alias it was named by
 * moves (the next request resolves the alias anew). Sequences with different deltas share a batch; a running
 * sequence keeps its delta alive until it ends.
 */
@ApplicationScoped
public class AdapterCatalog {

    private static final Logger LOG = Logger.getLogger(AdapterCatalog.class);
    /** PEFT's adapter config: its presence makes a directory a LoRA adapter. */
    static final String PEFT_CONFIG = "adapter_config.json";

    /** A delta in memory, the reference it was loaded by, and when a request last named it. */
    private record Loaded(DeltaFiles files, Adapter adapter, AtomicLong lastUsed) {

        Loaded(DeltaFiles files, Adapter adapter) {
            this(files, adapter, new AtomicLong(System.nanoTime()));
        }

        void touch() {
            lastUsed.set(System.nanoTime());
        }
    }

    private final ModelSource source;
    private final long idleNanos;
    private final Map<String, Loaded> byRef = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
            .name("delta-unload").daemon().unstarted(r));

    public AdapterCatalog(ModelSource source, ServingConfig config) {
        this.source = source;
        Duration idle = config.deltas().idleUnload();
        this.idleNanos = idle.toNanos();
        long every = Math.max(1, Math.min(idle.toMillis() / 2, 60_000));
        sweeper.scheduleWithFixedDelay(() -> unloadIdle(System.nanoTime()), every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * The delta {@code ref} names, checked against {@code base}, the loaded model, serving {@code served} (its own
     * version, or an edit version as factors over it).
     *
     * @throws ModelNotFound when there is no such delta
     * @throws InvalidRequest when it does not fit the base model (shapes; an edit version over another base)
     */
    public Adapter adapter(String ref, LoadedModel base, ModelVersion served) {
        Loaded loaded;
        try {
            loaded = byRef.computeIfAbsent(ref, this::load);
        } catch (UncheckedIOException e) {
            throw new ModelUnavailable("cannot load delta " + ref + ": " + e.getCause().getMessage(), e.getCause());
        }
        loaded.touch();
        Optional<ModelVersion> over = loaded.files().over();
        if (over.isPresent() && !over.get().digest().equals(served.digest())) {
            throw new InvalidRequest("model", "edit version " + ref + " is a delta over " + over.get()
                    + "; the request's base is " + served + ". Name its base, or the edit version itself"
                    + " as the model");
        }
        try {
            base.decoder().check(loaded.adapter());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequest("model", "delta " + ref + " does not fit " + base.version().model() + ": "
                    + e.getMessage());
        }
        return loaded.adapter();
    }

    /** An edit version's factors (from {@link ModelSource#editOverBase}) as the engine's deltas, not cached here. */
    static Adapter editFactors(DeltaFiles files) throws IOException {
        Path file = files.dir().resolve(EditDelta.FILE_NAME);
        try {
            return ServedDelta.adapter(files.version().toString(), EditDelta.read(file));
        } catch (MalformedFileException | IllegalArgumentException e) {
            throw new ModelUnavailable("the factors of " + files.version() + " cannot be served: " + e.getMessage(), e);
        }
    }

    private Loaded load(String ref) {
        try {
            DeltaFiles files = source.delta(ref);
            for (Loaded other : byRef.values()) {
                if (other.files().version().digest().equals(files.version().digest())) {
                    return new Loaded(files, other.adapter());
                }
            }
            Adapter adapter;
            if (Files.isRegularFile(files.dir().resolve(PEFT_CONFIG))) {
                try {
                    adapter = toEngine(ref, LoraAdapter.read(files.dir()));
                } catch (MalformedFileException e) {
                    throw new InvalidRequest("model", "adapter " + ref + " is not a PEFT LoRA adapter: "
                            + e.getMessage());
                }
            } else if (Files.isRegularFile(files.dir().resolve(EditDelta.FILE_NAME))) {
                try {
                    adapter = ServedDelta.adapter(ref, EditDelta.read(files.dir().resolve(EditDelta.FILE_NAME)));
                } catch (MalformedFileException | IllegalArgumentException e) {
                    throw new InvalidRequest("model", "edit factors of " + ref + " cannot be served: "
                            + e.getMessage());
                }
            } else {
                throw new InvalidRequest("model", ref + " is neither a LoRA adapter (" + PEFT_CONFIG
                        + ") nor an edit version (" + EditDelta.FILE_NAME + ")");
            }
            LOG.infof("loaded delta %s as %s (%d projections)", ref, files.version(), adapter.all().size());
            return new Loaded(files, adapter);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The alias {@code model@alias} moved: a delta named by it is unloaded, so the next request resolves it anew. */
    public void aliasMoved(String aliasRef) {
        if (byRef.remove(aliasRef) != null) {
            LOG.infof("unloaded delta %s: its alias moved", aliasRef);
        }
    }

    /** Every delta named by an alias is unloaded (after a gap in which alias moves may have been missed). */
    public void forgetAliases() {
        byRef.keySet().removeIf(ref -> ref.contains("@"));
    }

    /** Unloads the deltas no request has named for the idle time, as of {@code now} ({@link System#nanoTime}). */
    void unloadIdle(long now) {
        byRef.entrySet().removeIf(e -> {
            boolean idle = now - e.getValue().lastUsed().get() > idleNanos;
            if (idle) {
                LOG.infof("unloaded delta %s: unused for %s", e.getKey(), Duration.ofNanos(idleNanos));
            }
            return idle;
        });
    }

    /** The deltas loaded now, by the reference requests name them with, and the version each is. */
    public Map<String, ModelVersion> loaded() {
        Map<String, ModelVersion> out = new TreeMap<>();
        byRef.forEach((ref, l) -> out.put(ref, l.files().version()));
        return out;
    }

    /** PEFT's per-module factors as the engine's deltas, keyed by layer and projection (GPT-2's c_attn split). */
    static Adapter toEngine(String name, LoraAdapter lora) {
        Map<Adapter.Target, List<LowRankDelta>> deltas = new HashMap<>();
        for (LoraDelta d : lora.deltas()) {
            LowRankDelta delta = new LowRankDelta(d.a(), d.b(), d.rank(), d.in(), d.out(), (float) d.scale());
            Map<Adapter.Target, LowRankDelta> parts;
            try {
                parts = Adapter.onModule(d.module(), delta).orElseThrow(() -> new InvalidRequest("model", "adapter "
                        + name + " changes module '" + d.module() + "'; the engine applies deltas to the attention"
                        + " and MLP projections of a layer only"));
            } catch (IllegalArgumentException e) {
                throw new InvalidRequest("model", "adapter " + name + ": " + e.getMessage());
            }
            parts.forEach((t, part) -> deltas.computeIfAbsent(t, k -> new ArrayList<>()).add(part));
        }
        return new Adapter(name, deltas);
    }

    void stop(@Observes ShutdownEvent event) {
        sweeper.shutdownNow();
    }
}
