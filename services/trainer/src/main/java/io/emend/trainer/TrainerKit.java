package io.emend.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.contracts.event.Event;
import io.emend.service.input.InputCache;
import io.emend.service.job.JobEvents;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.RegistryTokens;
import io.emend.trainer.job.JobView;
import io.emend.trainer.job.TrainingJob;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The service kit's objects (emend-service-kit), built once from the trainer's configuration: the registry client with
 * its self-signed tokens (upn {@code trainer}), the verified input cache, and the job events of kind
 * {@code finetune}.
 */
@Singleton
public class TrainerKit {

    static final String SERVICE = "trainer";

    @Produces
    @Singleton
    RegistryTokens registryTokens(TrainerConfig config) {
        return new RegistryTokens(config.registry(), SERVICE);
    }

    @Produces
    @Singleton
    RegistryClient registryClient(TrainerConfig config, RegistryTokens tokens, ObjectMapper json) {
        return new RegistryClient(config.registry(), tokens, json);
    }

    @Produces
    @Singleton
    InputCache inputCache(TrainerConfig config, RegistryClient registry) {
        return new InputCache(config.storage().cacheDir(), registry);
    }

    @Produces
    @ApplicationScoped
    JobEvents<TrainingJob, JobView> jobEvents(TrainerConfig config) {
        JobEvents<TrainingJob, JobView> events = new JobEvents<>(config.events(), Event.TRAINER, TrainingJob.KIND,
                JobView::of);
        events.start();
        return events;
    }

    /** Flushes pending events and ends open SSE streams before the HTTP server goes down. */
    void stop(@Observes ShutdownEvent stopping, JobEvents<TrainingJob, JobView> events) {
        events.close();
    }
}
