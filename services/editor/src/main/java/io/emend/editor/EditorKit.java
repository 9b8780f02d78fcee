package io.emend.editor;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.contracts.event.Event;
import io.emend.editor.edit.EditJob;
import io.emend.editor.edit.JobView;
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
 * The service kit's objects (emend-service-kit), built once from the editor's configuration: the registry client with
 * its self-signed tokens (upn {@code editor}), the verified input cache, and the job events of kind {@code edit}.
 */
@Singleton
public class EditorKit {

    static final String SERVICE = "editor";

    @Produces
    @Singleton
    RegistryTokens registryTokens(EditorConfig config) {
        return new RegistryTokens(config.registry(), SERVICE);
    }

    @Produces
    @Singleton
    RegistryClient registryClient(EditorConfig config, RegistryTokens tokens, ObjectMapper json) {
        return new RegistryClient(config.registry(), tokens, json);
    }

    @Produces
    @Singleton
    InputCache inputCache(EditorConfig config, RegistryClient registry) {
        return new InputCache(config.storage().cacheDir(), registry);
    }

    @Produces
    @ApplicationScoped
    JobEvents<EditJob, JobView> jobEvents(EditorConfig config) {
        JobEvents<EditJob, JobView> events = new JobEvents<>(config.events(), Event.EDITOR, EditJob.KIND,
                JobView::of);
        events.start();
        return events;
    }

    /** Flushes pending events and ends open SSE streams before the HTTP server goes down. */
    void stop(@Observes ShutdownEvent stopping, JobEvents<EditJob, JobView> events) {
        events.close();
    }
}
