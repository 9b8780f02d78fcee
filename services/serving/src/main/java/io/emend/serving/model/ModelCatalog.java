package io.emend.serving.model;

import io.emend.core.infer.Adapter;
import io.emend.core.infer.QuantRule;
import io.emend.serving.ServingConfig;
import io.emend.serving.batch.BatchScheduler;
import io.emend.serving.metrics.ServingMetrics;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The references this replica serves ({@code demo@production}, {@code demo:3}, a standalone model's name) and the
 * loaded version each points at. Versions are loaded once per content digest and shared by every reference that
 * resolves to them; moving a reference to another version ({@link #swap}) is one atomic switch, after which new
 * requests go to the new version while running ones finish on the old, which is then unloaded.
 */
@ApplicationScoped
public class ModelCatalog {

    /**
     * What a served reference points at: the loaded model that runs it and the version it is. An edit version served
     * over its loaded edit base ({@code emend.serving.deltas.edits-over-loaded-base}) is that base's model plus the
     * edit's factors, applied to every request; otherwise {@code delta} is null and {@code version} the model's own.
     */
    private record Target(LoadedModel model, Adapter delta, ModelVersion version) {

        static Target of(LoadedModel model) {
            return new Target(model, null, model.version());
        }
    }

    /** A served reference and what it points at now. */
    private static final class Served {
        final String ref;
        volatile Target current;

        Served(String ref) {
            this.ref = ref;
        }
    }

    private final ModelSource source;
    private final ServingMetrics metrics;
    private final QuantRule quant;
    private final int threads;
    private final BatchScheduler.Limits limits;
    private final boolean editsOverLoadedBase;
    private final Map<String, CompletableFuture<Served>> served = new ConcurrentHashMap<>();
    /** Loads in progress or done, by digest: two references to one version share one load. */
    private final Map<String, CompletableFuture<LoadedModel>> byDigest = new ConcurrentHashMap<>();

    public ModelCatalog(ModelSource source, ServingConfig config, ServingMetrics metrics) {
        this.source = source;
        this.metrics = metrics;
        this.quant = QuantRule.parse(config.quant());
        this.threads = config.threads() > 0 ? config.threads() : Runtime.getRuntime().availableProcessors();
        this.limits = new BatchScheduler.Limits(config.batching().maxBatch(), config.batching().queueSize(),
                config.batching().prefillChunk());
        this.editsOverLoadedBase = config.deltas().editsOverLoadedBase();
    }

    /**
     * Claims the version {@code ref} points at for one request, loading it first when this replica does not serve
     * {@code ref} yet (the caller waits).
     *
     * @throws ModelNotFound when the source knows no such model
     * @throws ModelUnavailable when it exists but could not be loaded
     */
    public LoadedModel.Lease lease(String ref) {
        while (true) {
            Served s = served(ref);
            Target target = s.current;
            Optional<LoadedModel.Lease> lease = target.model().lease(target.version(), target.delta());
            if (lease.isPresent()) {
                return lease.get();
            }
            // swapped and closed between the read and the lease: the reference already points at the successor
            Thread.onSpinWait();
        }
    }

    private Served served(String ref) {
        CompletableFuture<Served> mine = new CompletableFuture<>();
        CompletableFuture<Served> existing = served.putIfAbsent(ref, mine);
        if (existing == null) {
            try {
                Served s = new Served(ref);
                s.current = target(ref);
                mine.complete(s);
            } catch (IOException | RuntimeException e) {
                served.remove(ref, mine);
                RuntimeException mapped = e instanceof RuntimeException r ? r
                        : new ModelUnavailable("cannot load " + ref + ": " + e.getMessage(), e);
                mine.completeExceptionally(mapped);
                throw mapped;
            }
            return mine.join();
        }
        try {
            return existing.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** Loads {@code ref} if needed (at start, for the default model). */
    public ModelVersion ensure(String ref) {
        try (LoadedModel.Lease lease = lease(ref)) {
            return lease.model().version();
        }
    }

    /**
     * What {@code ref} resolves to, with one hold taken on its model: its edit base plus its factors when that is
     * allowed and the base is loaded, else its own files, loaded unless a live model has the same digest.
     */
    private Target target(String ref) throws IOException {
        if (editsOverLoadedBase) {
            Optional<ModelSource.EditOverBase> edit = source.editOverBase(ref);
            if (edit.isPresent()) {
                Optional<LoadedModel> base = holdLive(edit.get().base().version().digest());
                if (base.isPresent()) {
                    try {
                        Adapter factors = AdapterCatalog.editFactors(edit.get().delta());
                        base.get().decoder().check(factors);
                        return new Target(base.get(), factors, edit.get().delta().version());
                    } catch (RuntimeException e) {
                        base.get().release();
                        throw e;
                    }
                }
            }
        }
        return Target.of(obtain(source.base(ref)));
    }

    /** The live model with {@code digest}, with a hold taken, if one is loaded (not loading, not closed). */
    private Optional<LoadedModel> holdLive(String digest) {
        CompletableFuture<LoadedModel> f = byDigest.get(digest);
        if (f == null || !f.isDone() || f.isCompletedExceptionally()) {
            return Optional.empty();
        }
        LoadedModel model = f.join();
        return model.hold() ? Optional.of(model) : Optional.empty();
    }

    /** A loaded model with one hold taken for the caller, loading it unless a live one has the same digest. */
    private LoadedModel obtain(ModelFiles files) {
        while (true) {
            CompletableFuture<LoadedModel> mine = new CompletableFuture<>();
            CompletableFuture<LoadedModel> existing = byDigest.putIfAbsent(files.version().digest(), mine);
            CompletableFuture<LoadedModel> future = existing == null ? mine : existing;
            if (existing == null) {
                try {
                    mine.complete(LoadedModel.load(files, quant, threads, limits, metrics));
                } catch (IOException | RuntimeException e) {
                    byDigest.remove(files.version().digest(), mine);
                    mine.completeExceptionally(e);
                }
            }
            LoadedModel model;
            try {
                model = future.join();
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IOException io) {
                    throw new ModelUnavailable("cannot load " + files.version() + " from " + files.dir() + ": "
                            + io.getMessage(), io);
                }
                if (cause instanceof IllegalArgumentException bad) {
                    throw new ModelUnavailable("cannot load " + files.version() + ": " + bad.getMessage(), bad);
                }
                throw cause instanceof RuntimeException r ? r : new UncheckedIOException(new IOException(cause));
            }
            if (model.hold()) {
                return model;
            }
            byDigest.remove(files.version().digest(), future);
        }
    }

    /**
     * Points {@code ref} at the version {@code target} (an exact reference) resolves to, loading it first (the
     * caller's thread does the work while the old version keeps serving). Running requests finish on the old version,
     * which is unloaded after the last one.
     *
     * @return the version {@code ref} pointed at before, or empty when nothing changed (same version, or
     *         {@code ref} is not served here)
     */
    public Optional<ModelVersion> swap(String ref, String target) throws IOException {
        Optional<Served> s = servedNow(ref);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        return switchTo(s.get(), target(target));
    }

    /** As {@link #swap(String, String)}, to files already at hand. */
    public Optional<ModelVersion> swap(String ref, ModelFiles files) {
        Optional<Served> s = servedNow(ref);
        if (s.isEmpty() || s.get().current.version().digest().equals(files.version().digest())) {
            return Optional.empty();
        }
        return switchTo(s.get(), Target.of(obtain(files)));
    }

    private Optional<Served> servedNow(String ref) {
        CompletableFuture<Served> entry = served.get(ref);
        if (entry == null || !entry.isDone() || entry.isCompletedExceptionally()) {
            return Optional.empty();
        }
        return Optional.of(entry.join());
    }

    /** Switches {@code s} to {@code next} (holding its model), releasing the previous model. */
    private Optional<ModelVersion> switchTo(Served s, Target next) {
        Target previous;
        synchronized (s) {
            previous = s.current;
            if (previous.version().digest().equals(next.version().digest())) {
                next.model().release();
                return Optional.empty();
            }
            s.current = next;
        }
        metrics.swapped();
        previous.model().release();
        return Optional.of(previous.version());
    }

    /** The references served now and their versions, in no particular order. */
    public List<Map.Entry<String, LoadedModel>> served() {
        List<Map.Entry<String, LoadedModel>> out = new ArrayList<>();
        served.forEach((ref, f) -> {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                out.add(Map.entry(ref, f.join().current.model()));
            }
        });
        return out;
    }

    /** The loaded model that runs {@code ref} now, if it is served and loaded. */
    public Optional<LoadedModel> current(String ref) {
        return servedNow(ref).map(s -> s.current.model());
    }

    /**
     * The version {@code ref} serves now: the loaded model's own, or an edit version served over it as its factors
     * (then {@code over} is the loaded model's version).
     */
    public record ServedVersion(ModelVersion version, Optional<ModelVersion> over) {

        @Override
        public String toString() {
            return over.map(o -> version + " as factors over " + o).orElse(version.toString());
        }
    }

    /** Every served reference and the version it serves now. */
    public Map<String, ServedVersion> versions() {
        Map<String, ServedVersion> out = new java.util.TreeMap<>();
        served.forEach((ref, f) -> {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                Target t = f.join().current;
                out.put(ref, new ServedVersion(t.version(),
                        t.delta() == null ? Optional.empty() : Optional.of(t.model().version())));
            }
        });
        return out;
    }

    public ModelSource source() {
        return source;
    }

    void unloadAll(@Observes ShutdownEvent event) {
        for (CompletableFuture<Served> f : served.values()) {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                f.join().current.model().release();
            }
        }
        served.clear();
    }
}
