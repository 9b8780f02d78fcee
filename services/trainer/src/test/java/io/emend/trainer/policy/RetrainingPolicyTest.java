package io.emend.trainer.policy;

import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetrainingPolicyTest {

    private static RetrainingPolicy matching(String... datasets) {
        return new RetrainingPolicy("p", "m", List.of(datasets), 1, null, 0.0, null, null, true, 0L, 0L);
    }

    @Test
    void datasetsMatchByNameOrGlob() {
        assertTrue(matching().matches("anything"));
        assertTrue(matching("support-*").matches("support-tickets"));
        assertFalse(matching("support-*").matches("sales-tickets"));
        assertTrue(matching("a", "b").matches("b"));
        // a dot in a name is a dot, not "any character"
        assertFalse(matching("v1.2").matches("v1x2"));
    }
}
