package io.emend.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.emend.core.train.FineTuneMetrics;

/**
 * A finished fine-tune's figures as the job and the registry version show them; a figure that was not measured is
 * absent (JSON has no NaN).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingMetrics(int steps, Double trainLoss, Double validationLossBefore, Double validationLossAfter,
                              Double heldOutPerplexityBefore, Double heldOutPerplexityAfter,
                              Double retentionLossBefore, Double retentionLossAfter, long trainedTokens,
                              Double tokensPerSecond) {

    static TrainingMetrics of(FineTuneMetrics m) {
        return new TrainingMetrics(m.steps(), finite(m.trainLoss()), finite(m.heldOutLossBefore()),
                finite(m.heldOutLossAfter()), finite(m.heldOutPerplexityBefore()), finite(m.heldOutPerplexityAfter()),
                finite(m.retentionLossBefore()), finite(m.retentionLossAfter()), m.tokensTrained(),
                finite(m.tokensPerSecond()));
    }

    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
