package io.emend.merger;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.contracts.event.Event;
import io.emend.merger.job.JobView;
import io.emend.merger.job.MergeJob;
import io.emend.service.input.InputCache;
import io.emend.service.job.JobEvents;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.RegistryTokens;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The service kit's objects (emend-service-kit), built once from the merger's configuration: the registry client with
 * its self-signed tokens (upn {@code merger}), the verified input cache, and the job events of kind {@code merge}.
 */
@Singleton
public class MergerKit {

    static final String SERVICE = "merger";

    @Produces
    @Singleton
    RegistryTokens registryTokens(MergerConfig config) {
        return new RegistryTokens(config.registry(), SERVICE);
    }

    @Produces
    @Singleton
    RegistryClient registryClient(MergerConfig config, RegistryTokens tokens, ObjectMapper json) {
        return new RegistryClient(config.registry(), tokens, json);
    }

    @Produces
    @Singleton
    InputCache inputCache(MergerConfig config, RegistryClient registry) {
        return new InputCache(config.storage().cacheDir(), registry);
    }

    @Produces
    @ApplicationScoped
    JobEvents<MergeJob, JobView> jobEvents(MergerConfig config) {
        JobEvents<MergeJob, JobView> events = new JobEvents<>(config.events(), Event.MERGER, MergeJob.KIND, JobView::of);
        events.start();
        return events;
    }

    /** Flushes pending events and ends open SSE streams before the HTTP server goes down. */
    void stop(@Observes ShutdownEvent stopping, JobEvents<MergeJob, JobView> events) {
        events.close();
    }
}
