package io.emend.trainer.gate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QualityGateTest {

    private static final GateThresholds DEFAULTS = GateThresholds.defaults();

    @Test
    void aChildThatLearnedAndKeptWhatItKnewPasses() {
        GateResult r = QualityGate.judge(DEFAULTS, new GateFigures(20.0, 12.0, 8.0, 8.1, 10, 6, 0));
        assertTrue(r.passed(), r.reasons().toString());
        assertEquals(3, r.checks().size());
    }

    @Test
    void eachCheckFailsOnItsOwn() {
        GateResult worse = QualityGate.judge(DEFAULTS, new GateFigures(20.0, 21.0, null, null, null, null, null));
        assertFalse(worse.passed());
        assertTrue(worse.reasons().getFirst().startsWith("held-out perplexity"), worse.reasons().toString());

        // +2.5% on the retention set is over the default +2%
        GateResult forgot = QualityGate.judge(DEFAULTS, new GateFigures(20.0, 12.0, 8.0, 8.2, null, null, null));
        assertFalse(forgot.passed());
        assertTrue(forgot.reasons().getFirst().contains("+2.50%"), forgot.reasons().toString());

        GateResult flipped = QualityGate.judge(DEFAULTS, new GateFigures(20.0, 12.0, null, null, 10, 6, 1));
        assertFalse(flipped.passed());
        assertTrue(flipped.reasons().getFirst().contains("negative flips 1 of 6"), flipped.reasons().toString());
    }

    @Test
    void thresholdsFromTheRequestApply() {
        GateThresholds lenient = new GateThresholds(1.1, 0.05, 2, null, null);
        assertTrue(QualityGate.judge(lenient, new GateFigures(20.0, 21.0, 8.0, 8.3, 10, 6, 2)).passed());
    }

    @Test
    void unmeasuredFiguresAreSkippedAndSaySo() {
        GateResult r = QualityGate.judge(DEFAULTS, new GateFigures(null, null, null, null, null, null, null));
        assertTrue(r.passed());
        assertTrue(r.checks().contains("retention not measured (no earlier data)"), r.checks().toString());
    }
}
