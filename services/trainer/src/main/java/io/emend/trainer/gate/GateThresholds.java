package io.emend.trainer.gate;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * What a fine-tuned version must show against its parent before it may take an alias (DESIGN.md, "Quality gates").
 * Null fields take the defaults of {@link #withDefaults()}.
 *
 * @param maxHeldOutRatio     the child's held-out perplexity on the new data may be at most this times the parent's
 *                            (1.0: it must not get worse on what it was trained for)
 * @param maxRetentionIncrease the child's perplexity on the retention set (earlier data) may rise by at most this
 *                            fraction over the parent's (0.02 = 2%)
 * @param maxNegativeFlips    probes the parent answered right (greedy) that the child may get wrong
 * @param probeFile           JSONL of {@code {"prompt", "completion"}}: the probe set; absent: no flip check
 * @param retentionFile       JSONL of earlier data to measure retention on; absent: the held-out part of the replay
 *                            data, else no retention check
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GateThresholds(Double maxHeldOutRatio, Double maxRetentionIncrease, Integer maxNegativeFlips,
                             String probeFile, String retentionFile) {

    public static final double DEFAULT_MAX_HELD_OUT_RATIO = 1.0;
    public static final double DEFAULT_MAX_RETENTION_INCREASE = 0.02;
    public static final int DEFAULT_MAX_NEGATIVE_FLIPS = 0;

    /** These thresholds with every absent one set to its default. */
    public GateThresholds withDefaults() {
        return new GateThresholds(maxHeldOutRatio == null ? DEFAULT_MAX_HELD_OUT_RATIO : maxHeldOutRatio,
                maxRetentionIncrease == null ? DEFAULT_MAX_RETENTION_INCREASE : maxRetentionIncrease,
                maxNegativeFlips == null ? DEFAULT_MAX_NEGATIVE_FLIPS : maxNegativeFlips, probeFile, retentionFile);
    }

    public static GateThresholds defaults() {
        return new GateThresholds(null, null, null, null, null).withDefaults();
    }
}
