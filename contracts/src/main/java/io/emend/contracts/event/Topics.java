package io.emend.contracts.event;

/** The Kafka topics Emend's events travel on. Records are keyed by model name, so one model's events stay ordered. */
public final class Topics {

    /** {@link EventTypes#DATASET_LANDED}: pipelines to the trainer. */
    public static final String DATASETS = "emend.datasets";

    /** {@code io.emend.version.*}: the registry to serving, trainer, editor and merger. */
    public static final String VERSIONS = "emend.versions";

    /** {@link EventTypes#ALIAS_MOVED}: the registry to serving. */
    public static final String ALIASES = "emend.aliases";

    /** {@code io.emend.job.*}: trainer, editor and merger to the registry and UIs. */
    public static final String JOBS = "emend.jobs";

    private Topics() {
    }
}
