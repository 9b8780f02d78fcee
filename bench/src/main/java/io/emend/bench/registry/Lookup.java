package io.emend.bench.registry;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * One kind of request the load generator repeats. Each client thread opens its own {@link Client} (its HTTP
 * keep-alive connection, or its JDBC connection with a prepared statement) and calls it in a closed loop.
 */
sealed interface Lookup permits Lookup.GetVersion, Lookup.ResolveAlias, Lookup.JdbcPrimaryKey,
        Lookup.JdbcResolveStatements {

    /** The name in tables and in the results file. */
    String name();

    Client open() throws IOException, SQLException;

    /** One client's session; {@link #call} answers whether the lookup succeeded. */
    interface Client extends AutoCloseable {
        boolean call(SplittableRandom random) throws IOException, InterruptedException, SQLException;

        /** One call whose answer is checked in full, before any timing, so a benchmark never times a wrong answer. */
        void check(SplittableRandom random) throws IOException, InterruptedException, SQLException;

        @Override
        void close() throws SQLException;
    }

    /** A seeded version, as the load generator read it from the database. */
    record Target(String model, int number, UUID id) {
    }

    /** {@code GET /v1/models/{name}/versions/{number}} for a random seeded version. */
    record GetVersion(HttpClient http, URI base, String token, List<Target> targets) implements Lookup {
        @Override
        public String name() {
            return "GET version";
        }

        @Override
        public Client open() {
            return new HttpLookupClient(http, token, random -> {
                Target target = targets.get(random.nextInt(targets.size()));
                return new HttpLookupClient.Expected(base.resolve("/v1/models/" + target.model() + "/versions/"
                        + target.number()), "\"model\":\"" + target.model() + "\"", "\"number\":" + target.number());
            });
        }
    }

    /** {@code GET /v1/resolve/{name}@production} for a random seeded model. */
    record ResolveAlias(HttpClient http, URI base, String token, List<Target> aliased) implements Lookup {
        @Override
        public String name() {
            return "resolve name@alias";
        }

        @Override
        public Client open() {
            return new HttpLookupClient(http, token, random -> {
                Target target = aliased.get(random.nextInt(aliased.size()));
                return new HttpLookupClient.Expected(base.resolve("/v1/resolve/" + target.model() + "@"
                        + SeedCatalog.ALIAS), "\"model\":\"" + target.model() + "\"",
                        "\"number\":" + target.number());
            });
        }
    }

    /**
     * The floor: the version row read by its primary key over plain JDBC, every column the registry returns for it.
     * No pool, no HTTP, no JSON: what any service backed by this PostgreSQL pays at least.
     */
    record JdbcPrimaryKey(String url, String user, List<Target> targets) implements Lookup {
        @Override
        public String name() {
            return "JDBC primary-key select";
        }

        @Override
        public Client open() throws SQLException {
            Connection connection = DriverManager.getConnection(url, user, "");
            PreparedStatement select = connection.prepareStatement("SELECT id, model_id, seq, state, operation,"
                    + " recipe, metrics, reason, created_at FROM model_version WHERE id = ?");
            return new Client() {
                @Override
                public boolean call(SplittableRandom random) throws SQLException {
                    return read(targets.get(random.nextInt(targets.size()))) != null;
                }

                @Override
                public void check(SplittableRandom random) throws SQLException {
                    Target target = targets.get(random.nextInt(targets.size()));
                    Integer seq = read(target);
                    if (seq == null || seq != target.number()) {
                        throw new IllegalStateException("primary-key select of " + target + " read seq " + seq);
                    }
                }

                private Integer read(Target target) throws SQLException {
                    select.setObject(1, target.id());
                    try (ResultSet row = select.executeQuery()) {
                        if (!row.next()) {
                            return null;
                        }
                        row.getObject(1, UUID.class);
                        row.getObject(2, UUID.class);
                        int seq = row.getInt(3);
                        row.getString(4);
                        row.getString(5);
                        row.getString(6);
                        row.getString(7);
                        row.getString(8);
                        row.getObject(9, OffsetDateTime.class);
                        return seq;
                    }
                }

                @Override
                public void close() throws SQLException {
                    connection.close();
                }
            };
        }
    }

    /**
     * Not a floor but a breakdown: the two statements the registry runs for {@code resolve name@alias} (the version
     * row joined with its alias and manifest, then its parents, as {@code VersionRepository} writes them), over plain
     * JDBC with the same concurrency. The gap between this and the HTTP resolve is the service (HTTP, token
     * verification, JSON, pool); the gap between this and the primary-key floor is the SQL.
     */
    record JdbcResolveStatements(String url, String user, List<Target> aliased) implements Lookup {

        private static final String VERSION = "SELECT v.id, v.model_id, m.name AS model_name, v.seq, v.state,"
                + " v.operation, v.recipe, v.metrics, v.reason, v.created_at, e.path, e.sha256, e.size_bytes,"
                + " e.media_type, e.present FROM model_version v JOIN model m ON m.id = v.model_id"
                + " LEFT JOIN manifest_entry e ON e.version_id = v.id"
                + " JOIN model_alias a ON a.version_id = v.id AND a.model_id = v.model_id"
                + " WHERE m.name = ? AND a.name = ? ORDER BY v.seq, e.path";
        private static final String PARENTS = "SELECT p.parent_id, m.name, v.seq, p.parent_role FROM version_parent p"
                + " JOIN model_version v ON v.id = p.parent_id JOIN model m ON m.id = v.model_id"
                + " WHERE p.version_id = ? ORDER BY p.position";

        @Override
        public String name() {
            return "JDBC resolve statements";
        }

        @Override
        public Client open() throws SQLException {
            Connection connection = DriverManager.getConnection(url, user, "");
            PreparedStatement version = connection.prepareStatement(VERSION);
            PreparedStatement parents = connection.prepareStatement(PARENTS);
            return new Client() {
                @Override
                public boolean call(SplittableRandom random) throws SQLException {
                    return resolve(aliased.get(random.nextInt(aliased.size()))) > 0;
                }

                @Override
                public void check(SplittableRandom random) throws SQLException {
                    Target target = aliased.get(random.nextInt(aliased.size()));
                    int number = resolve(target);
                    if (number != target.number()) {
                        throw new IllegalStateException("the resolve statements for " + target + " read " + number);
                    }
                }

                /** Reads every column of every row, as the registry maps them; answers the version number. */
                private int resolve(Target target) throws SQLException {
                    version.setString(1, target.model());
                    version.setString(2, SeedCatalog.ALIAS);
                    UUID id = null;
                    int number = 0;
                    try (ResultSet rows = version.executeQuery()) {
                        while (rows.next()) {
                            id = rows.getObject(1, UUID.class);
                            rows.getObject(2, UUID.class);
                            rows.getString(3);
                            number = rows.getInt(4);
                            for (int column = 5; column <= 9; column++) {
                                rows.getString(column);
                            }
                            rows.getObject(10, OffsetDateTime.class);
                            rows.getString(11);
                            rows.getString(12);
                            rows.getLong(13);
                            rows.getString(14);
                            rows.getBoolean(15);
                        }
                    }
                    if (id == null) {
                        return 0;
                    }
                    parents.setObject(1, id);
                    try (ResultSet rows = parents.executeQuery()) {
                        while (rows.next()) {
                            rows.getObject(1, UUID.class);
                            rows.getString(2);
                            rows.getInt(3);
                            rows.getString(4);
                        }
                    }
                    return number;
                }

                @Override
                public void close() throws SQLException {
                    connection.close();
                }
            };
        }
    }

    /** An HTTP GET with a bearer token, counted as a success on status 200 with a body. */
    final class HttpLookupClient implements Client {

        /** The URI to ask and two fragments a correct JSON answer contains. */
        record Expected(URI uri, String fragment, String otherFragment) {
        }

        interface Picker {
            Expected pick(SplittableRandom random);
        }

        private static final Duration TIMEOUT = Duration.ofSeconds(30);

        private final HttpClient http;
        private final String authorization;
        private final Picker picker;

        HttpLookupClient(HttpClient http, String token, Picker picker) {
            this.http = http;
            this.authorization = "Bearer " + token;
            this.picker = picker;
        }

        @Override
        public boolean call(SplittableRandom random) throws IOException, InterruptedException {
            HttpResponse<byte[]> response = send(picker.pick(random).uri());
            return response.statusCode() == 200 && response.body().length > 0;
        }

        @Override
        public void check(SplittableRandom random) throws IOException, InterruptedException {
            Expected expected = picker.pick(random);
            HttpResponse<byte[]> response = send(expected.uri());
            String body = new String(response.body(), StandardCharsets.UTF_8);
            if (response.statusCode() != 200 || !body.contains(expected.fragment())
                    || !body.contains(expected.otherFragment())) {
                throw new IllegalStateException("GET " + expected.uri() + " answered " + response.statusCode() + ": "
                        + body);
            }
        }

        private HttpResponse<byte[]> send(URI uri) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Authorization", authorization)
                    .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        }

        @Override
        public void close() {
            // the connection belongs to the shared client's keep-alive pool
        }
    }
}
