package io.emend.service.job;

import io.emend.contracts.event.Event;
import io.emend.contracts.event.EventCodec;
import io.emend.contracts.event.EventTypes;
import io.emend.contracts.event.JobEvent;
import io.emend.contracts.event.Topics;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.net.URI;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

/**
 * Tells the world what a job did: a CloudEvent on {@link Topics#JOBS} (key = the output model's name, subject
 * {@code <kind>/<id>}) and an update to every SSE listener of the job.
 *
 * <p>The job table is the truth and events follow it: each change is written first and announced after, from one
 * thread in order. Events are not written to an outbox: a crash between the write and the publish loses at most that
 * one announcement, and the next state change (or a GET of the job) tells the current state anyway. A broker that is
 * down delays events on that thread, never the job itself.
 *
 * @param <J> the service's job as stored
 * @param <V> the job as its REST API shows it, also each SSE event's data
 */
public class JobEvents<J extends TrackedJob, V> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(JobEvents.class);

    private final EventsConfig config;
    private final URI source;
    private final String kind;
    private final Function<J, V> view;
    private final EventCodec codec = new EventCodec();
    private final ExecutorService publisher;
    private final Map<String, Set<MultiEmitter<? super V>>> listeners = new ConcurrentHashMap<>();
    private volatile KafkaProducer<String, byte[]> producer;

    /**
     * @param source the CloudEvents source, e.g. {@link Event#MERGER}
     * @param kind   the job kind in {@link JobEvent#kind()}: {@code merge}, {@code finetune}, {@code edit}
     * @param view   how a job is shown to SSE listeners
     */
    public JobEvents(EventsConfig config, URI source, String kind, Function<J, V> view) {
        this.config = config;
        this.source = source;
        this.kind = kind;
        this.view = view;
        this.publisher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, kind + "-job-events");
            t.setDaemon(true);
            return t;
        });
    }

    /** Connects to Kafka (when events are enabled); call once, at start-up. */
    public synchronized void start() {
        if (!config.enabled() || producer != null) {
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

    /** Publishes what is pending, closes the producer and ends every SSE stream. */
    @Override
    public synchronized void close() {
        publisher.shutdown();
        try {
            publisher.awaitTermination(config.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (producer != null) {
            producer.close(config.sendTimeout());
            producer = null;
        }
        listeners.values().forEach(set -> set.forEach(MultiEmitter::complete));
        listeners.clear();
    }

    /** Announces that {@code job} entered its current state. */
    public void stateChanged(J job) {
        announce(job, job.state().eventType());
    }

    /** Announces progress of a running job. */
    public void progressed(J job) {
        announce(job, EventTypes.JOB_PROGRESS);
    }

    /**
     * The job's updates from now on, starting with its current state; completes once the job has ended.
     *
     * @param reread reads the job again (it may have changed since {@code current} was read)
     */
    public Multi<V> follow(J current, Supplier<J> reread) {
        return Multi.createFrom().emitter(emitter -> {
            Set<MultiEmitter<? super V>> mine = listeners.computeIfAbsent(current.id(),
                    id -> ConcurrentHashMap.newKeySet());
            mine.add(emitter);
            emitter.onTermination(() -> mine.remove(emitter));
            // read again after registering, so a change between the caller's read and now is not missed
            J now = reread.get();
            emitter.emit(view.apply(now));
            if (now.state().terminal()) {
                emitter.complete();
            }
        });
    }

    private void announce(J job, String type) {
        V shown = view.apply(job);
        for (MultiEmitter<? super V> emitter : listeners.getOrDefault(job.id(), Set.of())) {
            emitter.emit(shown);
            if (job.state().terminal()) {
                emitter.complete();
            }
        }
        if (job.state().terminal()) {
            listeners.remove(job.id());
        }
        KafkaProducer<String, byte[]> kafka = producer;
        if (kafka == null) {
            return;
        }
        Event<JobEvent> event = Event.of(source, type, kind + "/" + job.id(),
                new JobEvent(job.id(), kind, job.model(), wireState(job.state(), type),
                        Math.min(1, Math.max(0, job.progress())), job.message()));
        byte[] bytes = codec.encode(event);
        publisher.execute(() -> {
            try {
                kafka.send(new ProducerRecord<>(Topics.JOBS, event.key(), bytes), (metadata, failure) -> {
                    if (failure != null) {
                        LOG.warnf("job event %s of %s job %s was not published: %s", type, kind, job.id(),
                                failure.getMessage());
                    }
                });
            } catch (RuntimeException e) {
                LOG.warnf("job event %s of %s job %s was not published: %s", type, kind, job.id(), e.getMessage());
            }
        });
    }

    /** {@link JobEvent#state()}: {@code started} on entering running, {@code running} for its progress, else the state. */
    static String wireState(JobState state, String type) {
        if (state == JobState.RUNNING) {
            return type.equals(EventTypes.JOB_PROGRESS) ? "running" : "started";
        }
        return state.wire();
    }
}
