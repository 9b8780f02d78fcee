package io.emend.bench.registry;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load generator, run by {@link RegistryBench} as a second JVM so that its CPU and heap are not the registry's.
 * It drives each {@link Lookup} with {@code --concurrency} closed-loop clients (each sends a request, waits for the
 * answer, sends the next): a warm-up window per lookup, then {@code --rounds} rounds of one measured window per
 * lookup, the order rotated every round so that no lookup always runs first after a pause. Afterwards it counts the
 * SQL statements per request with PostgreSQL's own statistics. The report goes to {@code --out} as JSON.
 */
public final class LoadGenerator {

    /**
     * How long PostgreSQL 15 may hold a backend's counters before publishing them once the backend is idle
     * ({@code PGSTAT_IDLE_INTERVAL}, 10 s), plus a margin.
     */
    private static final Duration STATS_FLUSH = Duration.ofSeconds(12);

    private final Options options;
    private final Connection monitor;
    private final long registryPid;

    private LoadGenerator(Options options, Connection monitor) {
        this.options = options;
        this.monitor = monitor;
        this.registryPid = options.registryPid;
    }

    /** Arguments, all given by {@link RegistryBench}. */
    record Options(URI base, Path tokenFile, String server, String database, long registryPid, int concurrency,
            Duration warmup, Duration duration, int rounds, int probe, Path out) {

        static Options parse(String[] args) {
            Map<String, String> values = new HashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                values.put(args[i], args[i + 1]);
            }
            return new Options(URI.create(required(values, "--base")), Path.of(required(values, "--token-file")),
                    required(values, "--postgres"), required(values, "--database"),
                    Long.parseLong(required(values, "--registry-pid")),
                    Integer.parseInt(required(values, "--concurrency")),
                    Duration.ofSeconds(Long.parseLong(required(values, "--warmup"))),
                    Duration.ofSeconds(Long.parseLong(required(values, "--duration"))),
                    Integer.parseInt(required(values, "--rounds")), Integer.parseInt(required(values, "--probe")),
                    Path.of(required(values, "--out")));
        }

        private static String required(Map<String, String> values, String key) {
            String value = values.get(key);
            if (value == null) {
                throw new IllegalArgumentException("the load generator needs " + key);
            }
            return value;
        }

        String url() {
            return "jdbc:postgresql://" + server + "/" + database;
        }
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        // The monitor watches from the maintenance database, so its own queries never count as the bench's.
        try (Connection monitor = DriverManager.getConnection("jdbc:postgresql://" + options.server + "/postgres",
                ScratchDatabase.user(), "")) {
            LoadReport report = new LoadGenerator(options, monitor).run();
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(options.out.toFile(), report);
        }
    }

    private LoadReport run() throws Exception {
        String token = Files.readString(options.tokenFile).trim();
        List<Lookup.Target> versions = new ArrayList<>();
        List<Lookup.Target> aliased = new ArrayList<>();
        readTargets(versions, aliased);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<Lookup> lookups = List.of(
                new Lookup.GetVersion(http, options.base, token, versions),
                new Lookup.ResolveAlias(http, options.base, token, aliased),
                new Lookup.JdbcPrimaryKey(options.url(), ScratchDatabase.user(), versions),
                new Lookup.JdbcResolveStatements(options.url(), ScratchDatabase.user(), aliased));
        SplittableRandom random = new SplittableRandom(7);
        for (Lookup lookup : lookups) {
            try (Lookup.Client client = lookup.open()) {
                for (int i = 0; i < 20; i++) {
                    client.check(random);
                }
            }
        }
        for (Lookup lookup : lookups) {
            progress("warm-up %s, %d s", lookup.name(), options.warmup.toSeconds());
            window(lookup, 0, options.warmup);
        }
        List<LoadReport.Window> windows = new ArrayList<>();
        for (int round = 1; round <= options.rounds; round++) {
            for (int i = 0; i < lookups.size(); i++) {
                Lookup lookup = lookups.get((i + round - 1) % lookups.size());
                LoadReport.Window window = window(lookup, round, options.duration);
                progress("round %d %-24s p50 %8.0f us  p99 %8.0f us  %8.0f /s  errors %d  (load %.1f)", round,
                        lookup.name(), window.p50Micros(), window.p99Micros(), window.requestsPerSecond(),
                        window.errors(), window.loadAverage());
                windows.add(window);
            }
        }
        List<LoadReport.Probe> probes = new ArrayList<>();
        for (Lookup lookup : lookups) {
            if (options.probe > 0) {
                LoadReport.Probe probe = probe(lookup, random);
                progress("%s: %.2f SQL statements per request", lookup.name(), probe.statementsPerRequest());
                probes.add(probe);
            }
        }
        return new LoadReport(windows, probes);
    }

    /** One window of closed-loop load; only requests that complete before its deadline count. */
    private LoadReport.Window window(Lookup lookup, int round, Duration length) throws Exception {
        int concurrency = options.concurrency;
        List<Lookup.Client> clients = new ArrayList<>();
        List<Latencies> latencies = new ArrayList<>();
        AtomicLong errors = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch ready = new CountDownLatch(concurrency);
        CountDownLatch go = new CountDownLatch(1);
        long[] deadline = new long[1];
        try {
            for (int c = 0; c < concurrency; c++) {
                Lookup.Client client = lookup.open();
                clients.add(client);
                Latencies mine = new Latencies();
                latencies.add(mine);
                SplittableRandom random = new SplittableRandom(round * 1000L + c);
                threads.add(Thread.ofPlatform().name("client-" + c).start(() -> {
                    ready.countDown();
                    try {
                        go.await();
                        long start;
                        while ((start = System.nanoTime()) < deadline[0]) {
                            boolean ok;
                            try {
                                ok = client.call(random);
                            } catch (IOException | SQLException e) {
                                ok = false;
                            }
                            long end = System.nanoTime();
                            if (end > deadline[0]) {
                                break;
                            }
                            if (ok) {
                                mine.add(end - start);
                            } else {
                                errors.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            ready.await();
            Map<Long, Long> postgresCpu = CpuClock.cpuNanosByPid(backends());
            long registryCpu = CpuClock.cpuNanos(registryPid);
            long loadCpu = CpuClock.cpuNanos(ProcessHandle.current().pid());
            double loadAverage = CpuClock.loadAverage();
            long start = System.nanoTime();
            deadline[0] = start + length.toNanos();
            go.countDown();
            for (Thread thread : threads) {
                thread.join();
            }
            long registryUsed = CpuClock.cpuNanos(registryPid) - registryCpu;
            long postgresUsed = CpuClock.usedSince(postgresCpu, backends());
            long loadUsed = CpuClock.cpuNanos(ProcessHandle.current().pid()) - loadCpu;
            long[] sorted = Latencies.sorted(latencies);
            double seconds = length.toNanos() / 1e9;
            long requests = sorted.length;
            double perRequest = Math.max(1, requests) * 1000.0;
            return new LoadReport.Window(lookup.name(), round, concurrency, seconds, requests, errors.get(),
                    Latencies.percentile(sorted, 0.50) / 1e3, Latencies.percentile(sorted, 0.90) / 1e3,
                    Latencies.percentile(sorted, 0.99) / 1e3, Latencies.percentile(sorted, 1.0) / 1e3,
                    requests / seconds, registryUsed / perRequest, postgresUsed / perRequest, loadUsed / perRequest,
                    loadAverage);
        } finally {
            for (Lookup.Client client : clients) {
                client.close();
            }
        }
    }

    /**
     * Statements per request as PostgreSQL counts them: with autocommit every statement is its own transaction, so
     * the database's committed-plus-rolled-back transactions grow by one per statement. Counters reach
     * {@code pg_stat_database} only when a backend publishes them, at most {@link #STATS_FLUSH} after it went idle.
     */
    private LoadReport.Probe probe(Lookup lookup, SplittableRandom random) throws Exception {
        Thread.sleep(STATS_FLUSH);
        long before = transactions();
        try (Lookup.Client client = lookup.open()) {
            for (int i = 0; i < options.probe; i++) {
                if (!client.call(random)) {
                    throw new IllegalStateException(lookup.name() + " failed during the statement count");
                }
            }
        }
        Thread.sleep(STATS_FLUSH);
        long after = transactions();
        return new LoadReport.Probe(lookup.name(), options.probe, (after - before) / (double) options.probe);
    }

    private long transactions() throws SQLException {
        try (PreparedStatement select = monitor.prepareStatement(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ?")) {
            select.setString(1, options.database);
            try (ResultSet row = select.executeQuery()) {
                row.next();
                return row.getLong(1);
            }
        }
    }

    /** The server processes serving the bench database right now: the registry's pool and the floor's clients. */
    private Set<Long> backends() throws SQLException {
        Set<Long> pids = new HashSet<>();
        try (PreparedStatement select = monitor.prepareStatement("SELECT pid FROM pg_stat_activity"
                + " WHERE datname = ? AND backend_type = 'client backend'")) {
            select.setString(1, options.database);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    pids.add(rows.getLong(1));
                }
            }
        }
        return pids;
    }

    private void readTargets(List<Lookup.Target> versions, List<Lookup.Target> aliased) throws SQLException {
        try (Connection connection = DriverManager.getConnection(options.url(), ScratchDatabase.user(), "")) {
            try (ResultSet rows = connection.createStatement().executeQuery("SELECT m.name, v.seq, v.id"
                    + " FROM model_version v JOIN model m ON m.id = v.model_id ORDER BY m.name, v.seq")) {
                while (rows.next()) {
                    versions.add(new Lookup.Target(rows.getString(1), rows.getInt(2), rows.getObject(3, UUID.class)));
                }
            }
            try (ResultSet rows = connection.createStatement().executeQuery("SELECT m.name, v.seq, v.id"
                    + " FROM model_alias a JOIN model m ON m.id = a.model_id JOIN model_version v"
                    + " ON v.id = a.version_id ORDER BY m.name")) {
                while (rows.next()) {
                    aliased.add(new Lookup.Target(rows.getString(1), rows.getInt(2), rows.getObject(3, UUID.class)));
                }
            }
        }
        if (versions.isEmpty() || aliased.isEmpty()) {
            throw new IllegalStateException("the bench database holds no seeded versions or aliases");
        }
    }

    private static void progress(String format, Object... args) {
        System.err.printf(Locale.ROOT, "  [load] " + format + "%n", args);
    }
}
