package io.emend.bench.registry;

import java.util.List;

/** What the load generator process hands back to {@link RegistryBench}, as JSON in a file. */
record LoadReport(List<Window> windows, List<Probe> probes) {

    /**
     * One measured window of one lookup: latencies in microseconds (nearest-rank percentiles over every request that
     * completed inside the window), throughput, and CPU time per request of the registry JVM, of the database's
     * backends and of the load generator itself. {@code loadAverage} is the machine's 1-minute load at its start.
     */
    record Window(String lookup, int round, int concurrency, double seconds, long requests, long errors,
            double p50Micros, double p90Micros, double p99Micros, double maxMicros, double requestsPerSecond,
            double registryCpuMicros, double postgresCpuMicros, double loadCpuMicros, double loadAverage) {
    }

    /** SQL statements the database ran per request, counted by PostgreSQL over a sequential burst of requests. */
    record Probe(String lookup, int requests, double statementsPerRequest) {
    }
}
