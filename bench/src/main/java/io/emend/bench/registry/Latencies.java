package io.emend.bench.registry;

import java.util.Arrays;

/** Every latency of one client in one window, in nanoseconds; merged and sorted once the window ends. */
final class Latencies {

    private long[] values = new long[1 << 14];
    private int size;

    void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    int size() {
        return size;
    }

    /** All samples of several clients, sorted, so percentiles are exact rather than bucketed. */
    static long[] sorted(Iterable<Latencies> clients) {
        int total = 0;
        for (Latencies client : clients) {
            total += client.size;
        }
        long[] all = new long[total];
        int at = 0;
        for (Latencies client : clients) {
            System.arraycopy(client.values, 0, all, at, client.size);
            at += client.size;
        }
        Arrays.sort(all);
        return all;
    }

    /** The nearest-rank percentile {@code p} (0 < p <= 1) of sorted samples. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }
}
