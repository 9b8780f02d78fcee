package io.emend.registry;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A fresh database on the PostgreSQL at 127.0.0.1:5432 (override with {@code -Demend.test.postgres=host:port}) for
 * one test run, created before the registry starts and dropped after it stops.
 */
public class PostgresDatabase implements QuarkusTestResourceLifecycleManager {

    private final String server = System.getProperty("emend.test.postgres", "127.0.0.1:5432");
    private String name;

    @Override
    public Map<String, String> start() {
        name = "emend_registry_" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        admin("CREATE DATABASE " + name);
        return Map.of("emend.db.url", url(name), "emend.db.username", "postgres");
    }

    @Override
    public void stop() {
        if (name != null) {
            admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    public static String url(String database) {
        return "jdbc:postgresql://" + System.getProperty("emend.test.postgres", "127.0.0.1:5432") + "/" + database;
    }

    private void admin(String sql) {
        try (Connection connection = DriverManager.getConnection(
                "jdbc:postgresql://" + server + "/postgres", "postgres", "");
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + server + " refused: " + sql, e);
        }
    }
}
