package io.emend.serving.health;

import io.emend.serving.model.ModelCatalog;
import io.emend.serving.model.ModelVersion;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Loads the default model in the background at start, so that the HTTP port opens at once and readiness, not
 * liveness, waits for the weights (a Kubernetes Deployment then sends no traffic to a replica still loading).
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

        record Failed(String ref, String reason) implements State {
        }
    }

    private final ModelCatalog models;
    private volatile State state = new State.None();

    public DefaultModelLoader(ModelCatalog models) {
        this.models = models;
    }

    void start(@Observes StartupEvent event) {
        Optional<String> ref = models.source().defaultModel();
        if (ref.isEmpty()) {
            return;
        }
        state = new State.Loading(ref.get());
        Thread.ofPlatform().name("load-default-model").daemon().start(() -> {
            try {
                state = new State.Loaded(ref.get(), models.ensure(ref.get()));
            } catch (RuntimeException e) {
                LOG.errorf(e, "cannot load the default model %s", ref.get());
                state = new State.Failed(ref.get(), e.getMessage());
            }
        });
    }

    public State state() {
        return state;
    }
}
