package io.emend.serving.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class ServingMetricsTest {

    @Test
    void tokensPerSecondCountsTheLastFiveSecondsAtTheMomentItIsRead() {
        ServingMetrics metrics = new ServingMetrics(new SimpleMeterRegistry());
        long start = System.nanoTime();
        metrics.step(2, 5, 2);
        metrics.step(2, 0, 8);
        // read at once, a short burst already shows: 10 tokens over the 5-second window
        assertEquals(2.0, metrics.tokensPerSecond(start + 1_000_000), 1e-9);
        // six seconds later the burst has left the window
        assertEquals(0.0, metrics.tokensPerSecond(start + 6_100_000_000L), 1e-9);
    }
}
