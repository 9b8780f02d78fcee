package io.emend.service.job;

import com.fasterxml.jackson.annotation.JsonValue;
import io.emend.contracts.event.EventTypes;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Where a job is, and where it may go from there. The full lifecycle (OpenAI's fine-tuning states plus pause):
 * <pre>
 * validating_files → queued → running → succeeded | failed | cancelled
 *                              running ⇄ paused (paused → queued on resume)
 * </pre>
 * A service uses the part it needs: a merge or edit job is created {@code queued}. Every state may fail or be
 * cancelled until it ends; a {@code running} job goes back to {@code queued} when the process that ran it stops and
 * the job can resume from a checkpoint.
 */
public enum JobState {
    /** The request's files are being read and checked. */
    VALIDATING_FILES(EventTypes.JOB_QUEUED),
    QUEUED(EventTypes.JOB_QUEUED),
    RUNNING(EventTypes.JOB_STARTED),
    /** Stopped at a checkpoint on request; resumes from it. */
    PAUSED(EventTypes.JOB_PROGRESS),
    SUCCEEDED(EventTypes.JOB_SUCCEEDED),
    FAILED(EventTypes.JOB_FAILED),
    CANCELLED(EventTypes.JOB_CANCELLED);

    private final String eventType;

    JobState(String eventType) {
        this.eventType = eventType;
    }

    /**
     * The event announcing that a job entered this state. {@code io.emend.job.*} has no type for validating or
     * paused, so those go out as {@code queued} and {@code progress}, with the state itself in the data.
     */
    public String eventType() {
        return eventType;
    }

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** Whether a job in this state may move to {@code next}. */
    public boolean canMoveTo(JobState next) {
        return next(this).contains(next);
    }

    private static Set<JobState> next(JobState from) {
        return switch (from) {
            case VALIDATING_FILES -> EnumSet.of(QUEUED, FAILED, CANCELLED);
            case QUEUED -> EnumSet.of(RUNNING, FAILED, CANCELLED);
            case RUNNING -> EnumSet.of(PAUSED, QUEUED, SUCCEEDED, FAILED, CANCELLED);
            case PAUSED -> EnumSet.of(QUEUED, FAILED, CANCELLED);
            case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(JobState.class);
        };
    }

    /**
     * Checks a transition.
     *
     * @throws IllegalStateException when {@code from} may not move to {@code to}
     */
    public static void check(JobState from, JobState to) {
        if (!from.canMoveTo(to)) {
            throw new IllegalStateException("a job cannot move from " + from.wire() + " to " + to.wire());
        }
    }

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The state a wire name names.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static JobState of(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }
}
