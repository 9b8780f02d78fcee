package io.emend.serving.health;

import io.emend.serving.ServingConfig;
import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelVersion;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Loads the default model in the background at start, so that the HTTP port opens at once and readiness, not
 * liveness, waits for the weights (a Kubernetes Deployment then sends no traffic to a replica still loading). A failed
 * load is tried again, the waits doubling up to {@code emend.serving.default-model-retry}: the model may not be
 * imported yet, or the registry may be restarting, and a replica must not stay unready for good because of it.
 */
@ApplicationScoped
public class DefaultModelLoader {

    private static final Logger LOG = Logger.getLogger(DefaultModelLoader.class);

    /** Where the default model's load stands. */
    public sealed interface State {
        record None() implements State {
        }

        record Loading(String ref) implements State {
        }

        record Loaded(String ref, ModelVersion version) implements State {
        }

        /** The last attempt failed for {@code reason}; the next one follows after a wait. */
        record Failed(String ref, String reason, int attempts) implements State {
        }
    }

    private static final Duration FIRST_WAIT = Duration.ofSeconds(1);

    private final ModelCatalog models;
    private final Duration longestWait;
    private volatile State state = new State.None();

    public DefaultModelLoader(ModelCatalog models, ServingConfig config) {
        this.models = models;
        this.longestWait = config.defaultModelRetry();
    }

    void start(@Observes StartupEvent event) {
        Optional<String> ref = models.source().defaultModel();
        if (ref.isEmpty()) {
            return;
        }
        state = new State.Loading(ref.get());
        Thread.ofPlatform().name("load-default-model").daemon().start(() -> load(ref.get()));
    }

    private void load(String ref) {
        Duration wait = FIRST_WAIT;
        for (int attempt = 1; ; attempt++) {
            try {
                state = new State.Loaded(ref, models.ensure(ref));
                return;
            } catch (RuntimeException e) {
                state = new State.Failed(ref, e.getMessage(), attempt);
                LOG.errorf("cannot load the default model %s (attempt %d, next in %s): %s", ref, attempt, wait,
                        e.getMessage());
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            wait = wait.multipliedBy(2).compareTo(longestWait) > 0 ? longestWait : wait.multipliedBy(2);
        }
    }

    public State state() {
        return state;
    }
}
