package io.emend.trainer.gate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Judges a fine-tuned version against its parent (DESIGN.md, "Quality gates"): held-out perplexity on the new data
 * must not exceed {@code max_held_out_ratio} times the parent's, perplexity on the retention set may rise by at most
 * {@code max_retention_increase}, and at most {@code max_negative_flips} probes the parent answered right may turn
 * wrong. A check whose figures were not measured is skipped and says so; it never fails the gate.
 */
public final class QualityGate {

    private QualityGate() {
    }

    public static GateResult judge(GateThresholds thresholds, GateFigures figures) {
        GateThresholds t = thresholds.withDefaults();
        List<String> reasons = new ArrayList<>();
        List<String> checks = new ArrayList<>();
        if (figures.heldOutPerplexityBefore() != null && figures.heldOutPerplexityAfter() != null) {
            double ratio = figures.heldOutPerplexityAfter() / figures.heldOutPerplexityBefore();
            String line = String.format(Locale.ROOT, "held-out perplexity %.4f -> %.4f (ratio %.4f, limit %.4f)",
                    figures.heldOutPerplexityBefore(), figures.heldOutPerplexityAfter(), ratio, t.maxHeldOutRatio());
            checks.add(line);
            if (!(ratio <= t.maxHeldOutRatio())) {
                reasons.add(line);
            }
        } else {
            checks.add("held-out perplexity not measured (no held-out data)");
        }
        if (figures.retentionPerplexityBefore() != null && figures.retentionPerplexityAfter() != null) {
            double increase = figures.retentionPerplexityAfter() / figures.retentionPerplexityBefore() - 1;
            String line = String.format(Locale.ROOT,
                    "retention perplexity %.4f -> %.4f (%+.2f%%, limit +%.2f%%)", figures.retentionPerplexityBefore(),
                    figures.retentionPerplexityAfter(), 100 * increase, 100 * t.maxRetentionIncrease());
            checks.add(line);
            if (!(increase <= t.maxRetentionIncrease())) {
                reasons.add(line);
            }
        } else {
            checks.add("retention not measured (no earlier data)");
        }
        if (figures.negativeFlips() != null) {
            String line = String.format(Locale.ROOT, "negative flips %d of %d probes the parent answered right"
                    + " (limit %d)", figures.negativeFlips(), figures.parentCorrect(), t.maxNegativeFlips());
            checks.add(line);
            if (figures.negativeFlips() > t.maxNegativeFlips()) {
                reasons.add(line);
            }
        } else {
            checks.add("negative flips not measured (no probe set)");
        }
        return new GateResult(reasons.isEmpty(), reasons, checks, figures, t);
    }
}
