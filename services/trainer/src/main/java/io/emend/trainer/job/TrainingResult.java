package io.emend.trainer.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.emend.trainer.gate.GateResult;

/**
 * What a trained job produced, kept with the job once the adapter is written.
 *
 * @param aliasMoved whether {@code output.alias} was moved to the new version (only when the gate passed)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingResult(TrainingMetrics metrics, GateResult gate, Boolean aliasMoved) {

    TrainingResult withAliasMoved(boolean moved) {
        return new TrainingResult(metrics, gate, moved);
    }
}
