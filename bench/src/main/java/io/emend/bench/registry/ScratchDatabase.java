package io.emend.bench.registry;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A fresh PostgreSQL database for one run, created on open and dropped (with its sessions) on close, so a failed run
 * leaves nothing behind on the shared server.
 */
final class ScratchDatabase implements AutoCloseable {

    private final String server;
    private final String name;

    private ScratchDatabase(String server, String name) {
        this.server = server;
        this.name = name;
    }

    /** Creates {@code emend_regbench_<random>} on {@code host:port} as the trusted user {@code postgres}. */
    static ScratchDatabase create(String server) throws SQLException {
        String name = "emend_regbench_" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        admin(server, "CREATE DATABASE " + name);
        return new ScratchDatabase(server, name);
    }

    String name() {
        return name;
    }

    String url() {
        return "jdbc:postgresql://" + server + "/" + name;
    }

    static String user() {
        return "postgres";
    }

    @Override
    public void close() throws SQLException {
        admin(server, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private static void admin(String server, String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection("jdbc:postgresql://" + server + "/postgres", user(),
                "");
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
