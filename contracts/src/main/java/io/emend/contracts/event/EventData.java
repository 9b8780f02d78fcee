package io.emend.contracts.event;

/**
 * The {@code data} of an Emend event. Every event concerns one model, whose name is the Kafka record key, so that
 * one model's events keep their order.
 */
public sealed interface EventData permits VersionEvent, AliasMoved, DatasetLanded, JobEvent {

    /** The model the event is about, and the Kafka record key. */
    String model();
}
