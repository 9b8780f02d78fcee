package io.emend.serving.swap;

import io.emend.contracts.event.AliasMoved;
import io.emend.contracts.event.Event;
import io.emend.serving.model.AdapterCatalog;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelFiles;
import io.emend.serving.model.ModelVersion;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Follows alias moves: a per-request delta named by a moved alias is unloaded (the next request resolves it anew);
 * when an alias this replica serves moves, the new version is loaded in the background while the
 * old one keeps serving, then {@link ModelCatalog#swap} switches the alias in one step; requests already running
 * finish on the old version, which is unloaded after them. Swaps run one at a time, in the order moves arrive, and an
 * event seen before (Kafka delivers at least once) is ignored.
 */
@ApplicationScoped
public class SwapController {

    private static final Logger LOG = Logger.getLogger(SwapController.class);
    /** Event ids remembered for deduplication; redeliveries come soon after the original, so a window suffices. */
    static final int REMEMBERED_EVENTS = 10_000;

    private final ModelCatalog models;
    private final AdapterCatalog adapters;
    private final ExecutorService swaps = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform()
            .name("alias-swap").daemon().unstarted(r));
    private final Map<String, Boolean> seen = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_EVENTS;
        }
    };

    public SwapController(ModelCatalog models, AdapterCatalog adapters) {
        this.models = models;
        this.adapters = adapters;
    }

    /**
     * Reacts to one {@code alias.moved} event.
     *
     * @return the swap's outcome (the version replaced, or empty when nothing changed); empty at once for a
     *         duplicate event or an alias not served here
     */
    public CompletableFuture<Optional<ModelVersion>> onAliasMoved(Event<AliasMoved> event) {
        synchronized (seen) {
            if (seen.put(event.id(), Boolean.TRUE) != null) {
                LOG.debugf("alias.moved %s seen before; ignored", event.id());
                return CompletableFuture.completedFuture(Optional.empty());
            }
        }
        AliasMoved moved = event.data();
        String ref = moved.model() + "@" + moved.alias();
        String target = moved.model() + ":" + moved.version();
        adapters.aliasMoved(ref);
        if (models.current(ref).isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                Optional<ModelVersion> previous = models.swap(ref, target);
                previous.ifPresent(p -> LOG.infof("%s swapped from %s to %s", ref, p, target));
                return previous;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, swaps).whenComplete((v, e) -> {
            if (e != null) {
                LOG.errorf(e, "cannot swap %s to %s; it stays on its current version", ref, target);
            }
        });
    }

    /**
     * Re-resolves every served alias and swaps those that moved while no events could be seen (at start, before the
     * consumer joined its group).
     */
    public CompletableFuture<Void> catchUp() {
        return CompletableFuture.runAsync(() -> {
            adapters.forgetAliases();
            for (var served : models.served()) {
                String ref = served.getKey();
                if (!ref.contains("@")) {
                    continue;
                }
                try {
                    models.swap(ref, ref).ifPresent(p -> LOG.infof("%s caught up from %s", ref, p));
                } catch (java.io.IOException | RuntimeException e) {
                    LOG.errorf(e, "cannot re-resolve %s; it stays on its current version", ref);
                }
            }
        }, swaps);
    }

    /** Swaps {@code ref} to {@code files} on the caller's thread (loading first); see {@link ModelCatalog#swap}. */
    public Optional<ModelVersion> swap(String ref, ModelFiles files) {
        Optional<ModelVersion> previous = models.swap(ref, files);
        previous.ifPresent(p -> LOG.infof("%s swapped from %s to %s", ref, p, files.version()));
        return previous;
    }

    void stop(@Observes ShutdownEvent event) {
        swaps.shutdownNow();
    }
}
