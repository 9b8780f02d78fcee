package io.emend.trainer.database;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.InjectableInstance;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The trainer's tables through plain JDBC on whichever datasource {@link TrainerDatabaseSelection} activated. Every
 * statement is parameterized; {@link Instant}s are stored as UTC timestamps. A {@link Transaction} groups statements
 * that must commit together (a dataset delivery and the job it starts).
 */
@ApplicationScoped
public class TrainerDatabase {

    private final AgroalDataSource dataSource;

    TrainerDatabase(@Any InjectableInstance<AgroalDataSource> dataSources) {
        this.dataSource = dataSources.getActive();
    }

    /** Reads one row into a value. */
    @FunctionalInterface
    public interface RowReader<T> {
        T read(ResultSet row) throws SQLException;
    }

    /** Work that runs on one connection and commits (or rolls back) as one. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Transaction tx) throws SQLException;
    }

    /** Statements on one connection inside a transaction. */
    public static final class Transaction {
        private final Connection connection;

        private Transaction(Connection connection) {
            this.connection = connection;
        }

        public <T> List<T> query(String sql, RowReader<T> reader, Object... params) throws SQLException {
            return TrainerDatabase.query(connection, sql, reader, params);
        }

        public int update(String sql, Object... params) throws SQLException {
            try (PreparedStatement statement = prepare(connection, sql, params)) {
                return statement.executeUpdate();
            }
        }
    }

    public <T> List<T> query(String sql, RowReader<T> reader, Object... params) {
        try (Connection connection = dataSource.getConnection()) {
            return query(connection, sql, reader, params);
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    public int update(String sql, Object... params) {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement statement = prepare(connection, sql, params)) {
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    /**
     * Runs {@code work} in one transaction.
     *
     * @throws SQLException what the work threw, after the rollback (a constraint violation is the caller's to read)
     */
    public <T> T inTransaction(Work<T> work) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            boolean auto = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try {
                T result = work.run(new Transaction(connection));
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(auto);
            }
        }
    }

    /** The timestamp in {@code column}, or null. */
    public static Instant instant(ResultSet row, String column) throws SQLException {
        OffsetDateTime value = row.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /** A nullable DOUBLE column. */
    public static Double nullableDouble(ResultSet row, String column) throws SQLException {
        double value = row.getDouble(column);
        return row.wasNull() ? null : value;
    }

    /** A nullable INTEGER column. */
    public static Integer nullableInt(ResultSet row, String column) throws SQLException {
        int value = row.getInt(column);
        return row.wasNull() ? null : value;
    }

    /** Whether a failure is a unique or primary key violation (SQLSTATE 23505 on PostgreSQL and H2). */
    public static boolean isDuplicate(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && "23505".equals(s.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static <T> List<T> query(Connection connection, String sql, RowReader<T> reader, Object... params)
            throws SQLException {
        try (PreparedStatement statement = prepare(connection, sql, params);
                ResultSet rows = statement.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rows.next()) {
                out.add(reader.read(rows));
            }
            return out;
        }
    }

    private static PreparedStatement prepare(Connection connection, String sql, Object[] params) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            Object value = params[i] instanceof Instant instant ? instant.atOffset(ZoneOffset.UTC) : params[i];
            statement.setObject(i + 1, value);
        }
        return statement;
    }

    private static IllegalStateException failed(SQLException e) {
        return new IllegalStateException("the trainer's database failed: " + e.getMessage(), e);
    }
}
