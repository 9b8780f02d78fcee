package io.emend.merger.job;

import com.fasterxml.jackson.annotation.JsonValue;
import io.emend.contracts.event.EventTypes;
import java.util.Locale;

/** Where a merge job is: {@code queued → running → succeeded | failed | cancelled}. */
public enum JobState {
    QUEUED(EventTypes.JOB_QUEUED),
    RUNNING(EventTypes.JOB_STARTED),
    SUCCEEDED(EventTypes.JOB_SUCCEEDED),
    FAILED(EventTypes.JOB_FAILED),
    CANCELLED(EventTypes.JOB_CANCELLED);

    private final String eventType;

    JobState(String eventType) {
        this.eventType = eventType;
    }

    /** The event announcing that a job entered this state. */
    public String eventType() {
        return eventType;
    }

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    static JobState of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
