package io.emend.trainer.gate;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * What the gate measured, parent against child. Absent figures (null) were not measured: no retention set, no probes.
 *
 * @param heldOutPerplexityBefore   the parent's perplexity on the held-out new data
 * @param heldOutPerplexityAfter    the child's
 * @param retentionPerplexityBefore the parent's perplexity on the retention set (earlier data)
 * @param retentionPerplexityAfter  the child's
 * @param probes                    probes in the probe set
 * @param parentCorrect             probes whose greedy answer the parent got right
 * @param negativeFlips             of those, the ones the child gets wrong
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GateFigures(Double heldOutPerplexityBefore, Double heldOutPerplexityAfter,
                          Double retentionPerplexityBefore, Double retentionPerplexityAfter, Integer probes,
                          Integer parentCorrect, Integer negativeFlips) {
}
