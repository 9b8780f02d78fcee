package io.emend.merger.job;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.JobEvent;
import io.emend.contracts.event.Topics;
import io.emend.merger.MergerConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * Tells the world what a job did: a CloudEvent on {@link Topics#JOBS} (key = the output model's name) and an update to
 * every SSE listener of the job.
 *
 * <p>The job table is the truth and events follow it: each change is written first and announced after, from one
 * thread in order. Events are not written to an outbox: a crash between the write and the publish loses at most that
 * one announcement, and the next state change (or {@code GET /v1/merges/{id}}) tells the current state anyway. A
 * broker that is down delays events on that thread, never the merge itself.
 */
@ApplicationScoped
public class JobEvents {

    private static final Logger LOG = Logger.getLogger(JobEvents.class);
    static final String KIND = "merge";

    private final MergerConfig.EventsConfig config;
    private final EventCodec codec = new EventCodec();
    private final ExecutorService publisher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "merge-job-events");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Set<MultiEmitter<? super JobView>>> listeners = new ConcurrentHashMap<>();
    private KafkaProducer<String, byte[]> producer;

    JobEvents(MergerConfig config) {
        this.config = config.events();
    }

    void start(@Observes StartupEvent started) {
        if (!config.enabled()) {
            return;
        }
        Properties settings = new Properties();
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) config.sendTimeout().toMillis());
        settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(config.sendTimeout().toMillis(), 1000));
        settings.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(config.sendTimeout().toMillis(), 1000));
        settings.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producer = new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer());
    }

    void stop(@Observes ShutdownEvent stopping) {
        publisher.shutdown();
        try {
            publisher.awaitTermination(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (producer != null) {
            producer.close(config.sendTimeout());
        }
        listeners.values().forEach(set -> set.forEach(MultiEmitter::complete));
    }

    /** Announces that {@code job} entered its current state. */
    void stateChanged(MergeJob job) {
        announce(job, job.state().eventType());
    }

    /** Announces progress of a running job. */
    void progressed(MergeJob job) {
        announce(job, EventTypes.JOB_PROGRESS);
    }

    /**
     * The job's updates from now on, starting with its current state; completes once the job has ended.
     */
    Multi<JobView> follow(MergeJob current, java.util.function.Supplier<MergeJob> reread) {
        return Multi.createFrom().emitter(emitter -> {
            Set<MultiEmitter<? super JobView>> mine = listeners.computeIfAbsent(current.id(),
                    id -> ConcurrentHashMap.newKeySet());
            mine.add(emitter);
            emitter.onTermination(() -> mine.remove(emitter));
            // read again after registering, so a change between the caller's read and now is not missed
            MergeJob now = reread.get();
            emitter.emit(JobView.of(now));
            if (now.state().terminal()) {
                emitter.complete();
            }
        });
    }

    private void announce(MergeJob job, String type) {
        JobView view = JobView.of(job);
        for (MultiEmitter<? super JobView> emitter : listeners.getOrDefault(job.id(), Set.of())) {
            emitter.emit(view);
            if (job.state().terminal()) {
                emitter.complete();
            }
        }
        if (job.state().terminal()) {
            listeners.remove(job.id());
        }
        if (producer == null) {
            return;
        }
        String state = type.equals(EventTypes.JOB_PROGRESS) ? "running" : job.state() == JobState.RUNNING
                ? "started" : job.state().wire();
        Event<JobEvent> event = Event.of(Event.MERGER, type, "merge/" + job.id(),
                new JobEvent(job.id(), KIND, job.model(), state, Math.min(1, Math.max(0, job.progress())),
                        job.message()));
        byte[] bytes = codec.encode(event);
        publisher.execute(() -> {
            try {
                producer.send(new ProducerRecord<>(Topics.JOBS, event.key(), bytes), (metadata, failure) -> {
                    if (failure != null) {
                        LOG.warnf("job event %s of merge %s was not published: %s", type, job.id(), failure.getMessage());
                    }
                });
            } catch (RuntimeException e) {
                LOG.warnf("job event %s of merge %s was not published: %s", type, job.id(), e.getMessage());
            }
        });
    }
}
