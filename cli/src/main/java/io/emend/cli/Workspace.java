package io.emend.cli;

import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where the checkout is (the services' packaged jars, {@code models/demo}) and where the local stack keeps its state
 * ({@code .emend} by default: keys, Kafka log, database, objects, logs, pid files).
 *
 * @param root the checkout: {@code -Demend.home} (set by the {@code ./emend} script), else {@code EMEND_HOME}, else
 *             {@code -Demend.root} (set by the build for tests), else the working directory
 * @param data the state directory: {@code --data-dir}, else {@code EMEND_DATA_DIR}, else {@code <root>/.emend}
 */
public record Workspace(Path root, Path data) {

    public Workspace {
        root = root.toAbsolutePath().normalize();
        data = data.toAbsolutePath().normalize();
    }

    /** The workspace with the data directory given on the command line, or the default one when {@code null}. */
    public static Workspace locate(Path dataDir) {
        Path root = Path.of(firstSet(System.getProperty("emend.home"), System.getenv("EMEND_HOME"),
                System.getProperty("emend.root"), "."));
        Path data = dataDir != null ? dataDir
                : Path.of(firstSet(System.getenv("EMEND_DATA_DIR"), root.resolve(".emend").toString()));
        return new Workspace(root, data);
    }

    private static String firstSet(String... candidates) {
        return Stream.of(candidates).filter(c -> c != null && !c.isBlank()).findFirst().orElseThrow();
    }

    public Path keys() {
        return data.resolve("keys");
    }

    public Path kafka() {
        return data.resolve("kafka");
    }

    public Path database() {
        return data.resolve("db");
    }

    public Path objects() {
        return data.resolve("objects");
    }

    public Path logs() {
        return data.resolve("logs");
    }

    /** Pid files and the ports of the running stack, so {@code down}, {@code status} and {@code logs} find it. */
    public Path run() {
        return data.resolve("run");
    }

    public Path log(String component) {
        return logs().resolve(component + ".log");
    }

    public Path demoModel() {
        return root.resolve("models").resolve("demo");
    }

    /** The packaged Quarkus application of a service, as {@code ./mvnw package} leaves it. */
    public Path serviceJar(String service) {
        return root.resolve("services").resolve(service).resolve("target").resolve("quarkus-app").resolve("quarkus-run.jar");
    }
}
