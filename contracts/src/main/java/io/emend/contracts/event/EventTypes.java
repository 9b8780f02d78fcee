package io.emend.contracts.event;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The CloudEvents {@code type} of every Emend event, with the topic it is published on and the record its
 * {@code data} holds. Constants are plain strings so consumers can {@code switch} on them.
 */
public final class EventTypes {

    public static final String VERSION_CREATED = "io.emend.version.created";
    public static final String VERSION_READY = "io.emend.version.ready";
    public static final String VERSION_FAILED = "io.emend.version.failed";
    public static final String ALIAS_MOVED = "io.emend.alias.moved";
    public static final String DATASET_LANDED = "io.emend.dataset.landed";
    public static final String JOB_QUEUED = "io.emend.job.queued";
    public static final String JOB_STARTED = "io.emend.job.started";
    public static final String JOB_PROGRESS = "io.emend.job.progress";
    public static final String JOB_SUCCEEDED = "io.emend.job.succeeded";
    public static final String JOB_FAILED = "io.emend.job.failed";
    public static final String JOB_CANCELLED = "io.emend.job.cancelled";

    private record Route(String topic, Class<? extends EventData> dataType) {
    }

    private static final Map<String, Route> ROUTES = routes();

    private EventTypes() {
    }

    private static Map<String, Route> routes() {
        Map<String, Route> routes = new LinkedHashMap<>();
        for (String type : new String[] {VERSION_CREATED, VERSION_READY, VERSION_FAILED}) {
            routes.put(type, new Route(Topics.VERSIONS, VersionEvent.class));
        }
        routes.put(ALIAS_MOVED, new Route(Topics.ALIASES, AliasMoved.class));
        routes.put(DATASET_LANDED, new Route(Topics.DATASETS, DatasetLanded.class));
        for (String type : new String[] {JOB_QUEUED, JOB_STARTED, JOB_PROGRESS, JOB_SUCCEEDED, JOB_FAILED,
                JOB_CANCELLED}) {
            routes.put(type, new Route(Topics.JOBS, JobEvent.class));
        }
        return Map.copyOf(routes);
    }

    /** Every known type. */
    public static Set<String> all() {
        return ROUTES.keySet();
    }

    /** The topic events of {@code type} are published on, or empty for an unknown type. */
    public static Optional<String> topic(String type) {
        return Optional.ofNullable(ROUTES.get(type)).map(Route::topic);
    }

    /** The record the {@code data} of {@code type} holds, or empty for an unknown type. */
    public static Optional<Class<? extends EventData>> dataType(String type) {
        return Optional.ofNullable(ROUTES.get(type)).map(Route::dataType);
    }
}
