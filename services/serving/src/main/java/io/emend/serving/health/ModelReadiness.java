package io.emend.serving.health;

import io.emend.serving.model.AdapterCatalog;
import io.emend.serving.model.ModelCatalog;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** {@code /q/health/ready}: down until the default model is loaded; lists every served reference and its version, and the per-request deltas loaded. */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {

    private final DefaultModelLoader loader;
    private final ModelCatalog models;
    private final AdapterCatalog adapters;

    ModelReadiness(DefaultModelLoader loader, ModelCatalog models, AdapterCatalog adapters) {
        this.loader = loader;
        this.models = models;
        this.adapters = adapters;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("models");
        switch (loader.state()) {
            case DefaultModelLoader.State.None n -> b.up();
            case DefaultModelLoader.State.Loaded l -> b.up().withData("default", l.ref());
            case DefaultModelLoader.State.Loading l -> b.down().withData("default", l.ref()).withData("loading", true);
            case DefaultModelLoader.State.Failed f -> b.down().withData("default", f.ref()).withData("error", f.reason())
                    .withData("attempts", f.attempts());
        }
        models.versions().forEach((ref, v) -> b.withData(ref, v.toString()));
        adapters.loaded().forEach((ref, v) -> b.withData("delta " + ref, v.toString()));
        return b.build();
    }
}
