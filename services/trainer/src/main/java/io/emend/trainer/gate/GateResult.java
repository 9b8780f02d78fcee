package io.emend.trainer.gate;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The gate's verdict.
 *
 * @param passed   every check passed
 * @param reasons  one sentence per failed check (empty when passed), e.g. "retention perplexity rose 7.1% (limit 2%)"
 * @param checks   one sentence per check made, passed or not
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record GateResult(boolean passed, List<String> reasons, List<String> checks, GateFigures figures,
                         GateThresholds thresholds) {

    public GateResult {
        reasons = List.copyOf(reasons);
        checks = List.copyOf(checks);
    }
}
