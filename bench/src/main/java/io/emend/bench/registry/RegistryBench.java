package io.emend.bench.registry;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * Registry read latency and throughput against the floor of a plain JDBC primary-key select, in one run.
 *
 * <p>Creates a fresh PostgreSQL database, an RS256 key pair and the packaged registry as a child JVM pointing at
 * both; seeds models, versions with manifests and an alias through the REST API; then starts {@link LoadGenerator}
 * as a second JVM, which measures {@code GET /v1/models/{name}/versions/{n}}, {@code GET /v1/resolve/{name}@alias},
 * the JDBC floor and, as a breakdown, resolve's own SQL over JDBC, all with the same closed-loop concurrency. Prints
 * the windows, medians over rounds, the ratios and the issue's targets, then stops the registry and drops the
 * database, also on failure or Ctrl-C.
 *
 * <pre>
 * ./mvnw -q -B -DskipTests -pl bench,services/registry -am package
 * java -cp 'bench/target/emend-bench.jar:bench/target/lib/*' io.emend.bench.registry.RegistryBench [options]
 * </pre>
 */
public final class RegistryBench {

    /** The issue's targets: resolve p50 within 3x the JDBC floor, and at least 2,000 requests/s on 2 cores. */
    private static final double TARGET_RATIO = 3.0;
    private static final double TARGET_RPS = 2000;

    private static final String USAGE = """
            options (defaults in brackets):
              --models N           models to seed [100]
              --versions N         versions per model, each a fine-tune of the previous [3]
              --files N            manifest entries per version, >= 3 [3]
              --concurrency N      closed-loop clients, each its own connection [16]
              --warmup S           warm-up seconds per lookup [10]
              --duration S         measured seconds per lookup and round [15]
              --rounds N           rounds; medians over rounds are reported [3]
              --probe N            requests per SQL statement count, 0 to skip [500]
              --postgres HOST:PORT PostgreSQL with trust auth for user postgres [127.0.0.1:5432]
              --registry-jar PATH  [services/registry/target/quarkus-app/quarkus-run.jar]
              --registry-heap SIZE registry -Xmx [512m]
              --load-heap SIZE     load generator -Xmx [512m]
              --registry-java-options "OPTS"  more JVM options for the registry, e.g. a JFR recording [none]""";

    private RegistryBench() {
    }

    /** Parsed command line. */
    record Options(int models, int versions, int files, int concurrency, int warmup, int duration, int rounds,
            int probe, String postgres, Path registryJar, String registryHeap, String loadHeap,
            List<String> registryJavaOptions) {

        static Options parse(String[] args) {
            Map<String, String> values = new LinkedHashMap<>(Map.of("--models", "100", "--versions", "3", "--files",
                    "3", "--concurrency", "16", "--warmup", "10", "--duration", "15", "--rounds", "3", "--probe",
                    "500", "--postgres", "127.0.0.1:5432", "--registry-jar",
                    "services/registry/target/quarkus-app/quarkus-run.jar"));
            values.put("--registry-heap", "512m");
            values.put("--load-heap", "512m");
            values.put("--registry-java-options", "");
            for (int i = 0; i < args.length; i++) {
                if (!values.containsKey(args[i]) || i + 1 == args.length) {
                    throw new IllegalArgumentException((values.containsKey(args[i]) ? "missing value for "
                            : "unknown option ") + args[i] + "\n" + USAGE);
                }
                values.put(args[i], args[++i]);
            }
            Options options = new Options(positive(values, "--models"), positive(values, "--versions"),
                    positive(values, "--files"), positive(values, "--concurrency"),
                    nonNegative(values, "--warmup"), positive(values, "--duration"), positive(values, "--rounds"),
                    nonNegative(values, "--probe"), values.get("--postgres"), Path.of(values.get("--registry-jar")),
                    values.get("--registry-heap"), values.get("--load-heap"),
                    Stream.of(values.get("--registry-java-options").trim().split("\\s+"))
                            .filter(o -> !o.isEmpty()).toList());
            if (options.files < 3) {
                throw new IllegalArgumentException("--files must be at least 3 (config, tokenizer, weights)");
            }
            return options;
        }

        private static int positive(Map<String, String> values, String key) {
            int value = nonNegative(values, key);
            if (value == 0) {
                throw new IllegalArgumentException(key + " must be positive");
            }
            return value;
        }

        private static int nonNegative(Map<String, String> values, String key) {
            try {
                int value = Integer.parseInt(values.get(key));
                if (value < 0) {
                    throw new IllegalArgumentException(key + " must not be negative, got " + value);
                }
                return value;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " needs a whole number, got '" + values.get(key) + "'");
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("registry bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        Deque<Teardown> teardown = new ArrayDeque<>();
        AtomicBoolean tornDown = new AtomicBoolean();
        Runnable cleanup = () -> {
            if (tornDown.compareAndSet(false, true)) {
                while (!teardown.isEmpty()) {
                    Teardown step = teardown.pop();
                    try {
                        step.run();
                    } catch (Exception e) {
                        System.err.println("registry bench: cleanup failed: " + e);
                    }
                }
            }
        };
        // Ctrl-C skips finally blocks but runs shutdown hooks: the database and the child JVMs go either way.
        Thread hook = new Thread(cleanup, "registry-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean clean;
        try {
            clean = run(options, teardown);
        } finally {
            cleanup.run();
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        System.exit(clean ? 0 : 1);
    }

    /** One cleanup step, run in reverse order of set-up. */
    @FunctionalInterface
    interface Teardown {
        void run() throws Exception;
    }

    private static boolean run(Options options, Deque<Teardown> teardown) throws Exception {
        System.out.printf(Locale.ROOT, "registry bench %s, %d cores, 1-minute load %.2f%n",
                LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS), Runtime.getRuntime().availableProcessors(),
                CpuClock.loadAverage());
        Path home = Files.createTempDirectory("emend-regbench-");
        teardown.push(() -> deleteRecursively(home));
        ScratchDatabase database = ScratchDatabase.create(options.postgres);
        teardown.push(database::close);
        System.out.println("database " + database.name() + " on " + options.postgres);

        SigningKey key = SigningKey.generate();
        Path publicKey = key.writePublicPem(home.resolve("public.pem"));
        long t0 = System.nanoTime();
        RegistryProcess registry = RegistryProcess.start(options.registryJar, home, database.url(),
                ScratchDatabase.user(), publicKey, options.registryHeap, options.registryJavaOptions);
        teardown.push(registry::close);
        System.out.printf(Locale.ROOT, "registry pid %d at %s, ready in %.1f s%n", registry.pid(),
                registry.baseUri(), (System.nanoTime() - t0) / 1e9);

        Instant expires = Instant.now().plus(Duration.ofHours(6));
        SeedCatalog seed = new SeedCatalog(registry.baseUri(), key.token("bench-writer", "writer", expires),
                key.token("bench-admin", "admin", expires));
        t0 = System.nanoTime();
        seed.seed(options.models, options.versions, options.files, 4);
        seed.verify(options.models, options.versions, options.files);
        System.out.printf(Locale.ROOT, "seeded %d models x %d versions x %d files, alias %s, in %.1f s%n",
                options.models, options.versions, options.files, SeedCatalog.ALIAS, (System.nanoTime() - t0) / 1e9);

        Path tokenFile = Files.writeString(home.resolve("reader.token"), key.token("bench-reader", "reader", expires));
        Path reportFile = home.resolve("load-report.json");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + options.loadHeap, "-cp", System.getProperty("java.class.path"),
                LoadGenerator.class.getName(),
                "--base", registry.baseUri().toString(), "--token-file", tokenFile.toString(),
                "--postgres", options.postgres, "--database", database.name(),
                "--registry-pid", Long.toString(registry.pid()),
                "--concurrency", Integer.toString(options.concurrency),
                "--warmup", Integer.toString(options.warmup), "--duration", Integer.toString(options.duration),
                "--rounds", Integer.toString(options.rounds), "--probe", Integer.toString(options.probe),
                "--out", reportFile.toString()));
        System.out.printf(Locale.ROOT, "load generator: %d closed-loop clients, warm-up %d s, %d rounds of %d s%n",
                options.concurrency, options.warmup, options.rounds, options.duration);
        Process load = new ProcessBuilder(command).inheritIO().start();
        teardown.push(() -> {
            load.destroy();
            if (!load.waitFor(10, TimeUnit.SECONDS)) {
                load.destroyForcibly().waitFor();
            }
        });
        int exit = load.waitFor();
        if (exit != 0) {
            throw new IllegalStateException("the load generator exited with " + exit + "; registry log tail:\n"
                    + registry.tail());
        }
        LoadReport report = new ObjectMapper().readValue(reportFile.toFile(), LoadReport.class);
        boolean clean = print(options, report);
        if (!clean) {
            System.out.println("registry log tail (the log goes with the run's temporary directory):\n"
                    + registry.tail());
        }
        return clean;
    }

    /** Prints every window, the medians, ratios and targets; answers whether every request succeeded. */
    private static boolean print(Options options, LoadReport report) {
        System.out.println();
        System.out.println("| round | lookup | load | requests | errors | p50 ms | p90 ms | p99 ms | max ms | req/s"
                + " | registry CPU us/req | PostgreSQL CPU us/req | load gen CPU us/req |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (LoadReport.Window w : report.windows()) {
            System.out.printf(Locale.ROOT, "| %d | %s | %.1f | %d | %d | %.3f | %.3f | %.3f | %.1f | %.0f | %.0f | %.0f"
                    + " | %.0f |%n", w.round(), w.lookup(), w.loadAverage(), w.requests(), w.errors(),
                    w.p50Micros() / 1e3, w.p90Micros() / 1e3, w.p99Micros() / 1e3, w.maxMicros() / 1e3,
                    w.requestsPerSecond(), w.registryCpuMicros(), w.postgresCpuMicros(), w.loadCpuMicros());
        }
        Map<String, List<LoadReport.Window>> byLookup = new LinkedHashMap<>();
        for (LoadReport.Window w : report.windows()) {
            byLookup.computeIfAbsent(w.lookup(), k -> new ArrayList<>()).add(w);
        }
        Map<String, Double> perRequest = new LinkedHashMap<>();
        report.probes().forEach(p -> perRequest.put(p.lookup(), p.statementsPerRequest()));
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.println();
        System.out.printf(Locale.ROOT, "medians over %d rounds, %d clients:%n%n", options.rounds,
                options.concurrency);
        System.out.println("| lookup | p50 ms | p99 ms | req/s | SQL statements/req | registry + PostgreSQL CPU us/req"
                + " | CPU-bound ceiling on " + cores + " cores, req/s |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (var entry : byLookup.entrySet()) {
            List<LoadReport.Window> ws = entry.getValue();
            double cpu = median(ws, w -> w.registryCpuMicros() + w.postgresCpuMicros());
            System.out.printf(Locale.ROOT, "| %s | %.3f | %.3f | %.0f | %s | %.0f | %.0f |%n", entry.getKey(),
                    median(ws, LoadReport.Window::p50Micros) / 1e3, median(ws, LoadReport.Window::p99Micros) / 1e3,
                    median(ws, LoadReport.Window::requestsPerSecond),
                    perRequest.containsKey(entry.getKey())
                            ? String.format(Locale.ROOT, "%.2f", perRequest.get(entry.getKey())) : "-",
                    cpu, cores * 1e6 / cpu);
        }
        List<LoadReport.Window> resolve = byLookup.get("resolve name@alias");
        List<LoadReport.Window> version = byLookup.get("GET version");
        List<LoadReport.Window> floor = byLookup.get("JDBC primary-key select");
        double floorP50 = median(floor, LoadReport.Window::p50Micros);
        double resolveRatio = median(resolve, LoadReport.Window::p50Micros) / floorP50;
        double versionRatio = median(version, LoadReport.Window::p50Micros) / floorP50;
        double resolveRps = median(resolve, LoadReport.Window::requestsPerSecond);
        double versionRps = median(version, LoadReport.Window::requestsPerSecond);
        double floorRps = median(floor, LoadReport.Window::requestsPerSecond);
        System.out.println();
        System.out.printf(Locale.ROOT, "resolve p50 / JDBC p50     = %.2fx  (target <= %.0fx: %s)%n", resolveRatio,
                TARGET_RATIO, resolveRatio <= TARGET_RATIO ? "met" : "NOT met");
        System.out.printf(Locale.ROOT, "GET version p50 / JDBC p50 = %.2fx%n", versionRatio);
        List<LoadReport.Window> statements = byLookup.get("JDBC resolve statements");
        System.out.printf(Locale.ROOT, "resolve's SQL alone over JDBC, p50 / JDBC p50 = %.2fx; resolve p50 / its SQL"
                + " p50 = %.2fx%n", median(statements, LoadReport.Window::p50Micros) / floorP50,
                median(resolve, LoadReport.Window::p50Micros) / median(statements, LoadReport.Window::p50Micros));
        System.out.printf(Locale.ROOT, "resolve req/s              = %.0f  (target >= %.0f on 2 cores, %d here: %s)"
                + "%n", resolveRps, TARGET_RPS, cores, resolveRps >= TARGET_RPS ? "met" : "NOT met");
        System.out.printf(Locale.ROOT, "GET version req/s          = %.0f; resolve / JDBC req/s = %.2f%n", versionRps,
                resolveRps / floorRps);
        long errors = report.windows().stream().mapToLong(LoadReport.Window::errors).sum();
        if (errors > 0) {
            System.out.println("FAILED REQUESTS: " + errors + " (see the rounds table)");
        }
        return errors == 0;
    }

    private static double median(List<LoadReport.Window> windows, ToDoubleFunction<LoadReport.Window> figure) {
        double[] values = windows.stream().mapToDouble(figure).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
