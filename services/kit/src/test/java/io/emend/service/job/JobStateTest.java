package io.emend.service.job;

import io.emend.contracts.event.EventTypes;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobStateTest {

    @Test
    void theFineTuningLifecycleIsAllowed() {
        JobState.check(JobState.VALIDATING_FILES, JobState.QUEUED);
        JobState.check(JobState.QUEUED, JobState.RUNNING);
        JobState.check(JobState.RUNNING, JobState.PAUSED);
        JobState.check(JobState.PAUSED, JobState.QUEUED);
        JobState.check(JobState.RUNNING, JobState.SUCCEEDED);
        JobState.check(JobState.VALIDATING_FILES, JobState.FAILED);
    }

    @Test
    void endedJobsStayEndedAndNothingSkipsTheQueue() {
        for (JobState end : new JobState[] {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED}) {
            assertTrue(end.terminal());
            for (JobState next : JobState.values()) {
                assertFalse(end.canMoveTo(next), end + " -> " + next);
            }
        }
        assertFalse(JobState.VALIDATING_FILES.canMoveTo(JobState.RUNNING));
        assertFalse(JobState.PAUSED.canMoveTo(JobState.RUNNING));
        assertFalse(JobState.QUEUED.canMoveTo(JobState.SUCCEEDED));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> JobState.check(JobState.SUCCEEDED, JobState.RUNNING));
        assertEquals("a job cannot move from succeeded to running", e.getMessage());
    }

    @Test
    void wireNamesAndEventStates() {
        assertEquals("validating_files", JobState.VALIDATING_FILES.wire());
        assertEquals(JobState.PAUSED, JobState.of("paused"));
        assertEquals("started", JobEvents.wireState(JobState.RUNNING, EventTypes.JOB_STARTED));
        assertEquals("running", JobEvents.wireState(JobState.RUNNING, EventTypes.JOB_PROGRESS));
        assertEquals("paused", JobEvents.wireState(JobState.PAUSED, JobState.PAUSED.eventType()));
        assertEquals("validating_files", JobEvents.wireState(JobState.VALIDATING_FILES, EventTypes.JOB_QUEUED));
    }
}
