package io.emend.serving.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What Prometheus scrapes from {@code /q/metrics}: tokens generated (its rate is tokens/s) and the decode loop's own
 * recent tokens/s, time to first token, requests waiting for a slot, sequences per step, and hot swaps.
 */
@ApplicationScoped
public class ServingMetrics {

    private final Counter promptTokens;
    private final Counter completionTokens;
    private final Timer timeToFirstToken;
    private final DistributionSummary batchSize;
    private final Counter swaps;
    private final Counter rejected;
    private final AtomicInteger queueDepth = new AtomicInteger();
    /**
     * Decode steps of the last {@link #WINDOW_NANOS} (time, tokens), so that the tokens/s gauge is computed when it is
     * scraped: a figure updated only when a step closes a window would read 0 right after a short burst.
     */
    private final ArrayDeque<long[]> recentSteps = new ArrayDeque<>();
    private static final long WINDOW_NANOS = 5_000_000_000L;

    public ServingMetrics(MeterRegistry registry) {
        promptTokens = Counter.builder("emend.serving.tokens").tag("kind", "prompt")
                .description("prompt tokens prefilled").register(registry);
        completionTokens = Counter.builder("emend.serving.tokens").tag("kind", "completion")
                .description("tokens generated; its rate is the service's decode tokens/s").register(registry);
        timeToFirstToken = Timer.builder("emend.serving.time.to.first.token")
                .description("from a request's arrival in the queue to its first generated token")
                .publishPercentiles(0.5, 0.95).register(registry);
        batchSize = DistributionSummary.builder("emend.serving.batch.size")
                .description("sequences advanced by one decode step").register(registry);
        swaps = Counter.builder("emend.serving.swaps").description("hot swaps of a served alias to a new version")
                .register(registry);
        rejected = Counter.builder("emend.serving.rejected").description("requests answered 429 because the queue was full")
                .register(registry);
        Gauge.builder("emend.serving.queue.depth", queueDepth, AtomicInteger::get)
                .description("requests waiting for a batch slot").register(registry);
        Gauge.builder("emend.serving.tokens.per.second", this, m -> m.tokensPerSecond(System.nanoTime())).strongReference(true)
                .description("tokens generated per second over the last 5 seconds").register(registry);
    }

    public void queued() {
        queueDepth.incrementAndGet();
    }

    public void dequeued() {
        queueDepth.decrementAndGet();
    }

    public int queueDepth() {
        return queueDepth.get();
    }

    public void rejected() {
        rejected.increment();
    }

    public void step(int sequences, int prefilled, int generated) {
        batchSize.record(sequences);
        promptTokens.increment(prefilled);
        completionTokens.increment(generated);
        if (generated > 0) {
            long now = System.nanoTime();
            synchronized (recentSteps) {
                recentSteps.addLast(new long[] {now, generated});
                forgetBefore(now - WINDOW_NANOS);
            }
        }
    }

    /** Tokens generated in the {@link #WINDOW_NANOS} before {@code now}, per second of that window. */
    double tokensPerSecond(long now) {
        long tokens = 0;
        synchronized (recentSteps) {
            forgetBefore(now - WINDOW_NANOS);
            for (long[] step : recentSteps) {
                tokens += step[1];
            }
        }
        return tokens * 1e9 / WINDOW_NANOS;
    }

    private void forgetBefore(long cutoff) {
        while (!recentSteps.isEmpty() && recentSteps.peekFirst()[0] < cutoff) {
            recentSteps.removeFirst();
        }
    }

    public void firstToken(Duration sinceArrival) {
        timeToFirstToken.record(sinceArrival);
    }

    public void swapped() {
        swaps.increment();
    }

    public double swaps() {
        return swaps.count();
    }

    public double completionTokens() {
        return completionTokens.count();
    }
}
