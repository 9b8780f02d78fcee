package io.emend.editor.database;

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
 * The editor's tables over plain JDBC on whichever datasource is active (PostgreSQL or H2). Statements are bound
 * positionally; an {@link Instant} is bound as a UTC {@code TIMESTAMP WITH TIME ZONE}. Several statements that must
 * land together run through {@link #transaction}.
 */
@ApplicationScoped
public class Database {

    private final AgroalDataSource dataSource;

    Database(@Any InjectableInstance<AgroalDataSource> dataSources) {
        this.dataSource = dataSources.getActive();
    }

    /** Maps one row. */
    @FunctionalInterface
    public interface Row<T> {
        T map(ResultSet row) throws SQLException;
    }

    /** Statements run on one connection inside one transaction. */
    public interface Statements {
        int update(String sql, Object... params);

        <T> List<T> query(String sql, Row<T> row, Object... params);
    }

    /** Work done inside {@link #transaction}. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Statements statements);
    }

    public <T> List<T> query(String sql, Row<T> row, Object... params) {
        try (Connection connection = dataSource.getConnection()) {
            return query(connection, sql, row, params);
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    public int update(String sql, Object... params) {
        try (Connection connection = dataSource.getConnection()) {
            return update(connection, sql, params);
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    /** Runs {@code work} in one transaction: every statement commits, or none does. */
    public <T> T transaction(Work<T> work) {
        try (Connection connection = dataSource.getConnection()) {
            boolean auto = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try {
                T result = work.run(new Statements() {
                    @Override
                    public int update(String sql, Object... params) {
                        try {
                            return Database.update(connection, sql, params);
                        } catch (SQLException e) {
                            throw failed(e);
                        }
                    }

                    @Override
                    public <R> List<R> query(String sql, Row<R> row, Object... params) {
                        try {
                            return Database.query(connection, sql, row, params);
                        } catch (SQLException e) {
                            throw failed(e);
                        }
                    }
                });
                connection.commit();
                return result;
            } catch (RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            throw failed(e);
        }
    }

    /** A {@code TIMESTAMP WITH TIME ZONE} column as an instant. */
    public static Instant instant(ResultSet row, String column) throws SQLException {
        OffsetDateTime value = row.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /** A nullable {@code DOUBLE PRECISION} column. */
    public static Double nullableDouble(ResultSet row, String column) throws SQLException {
        double value = row.getDouble(column);
        return row.wasNull() ? null : value;
    }

    private static <T> List<T> query(Connection connection, String sql, Row<T> row, Object[] params)
            throws SQLException {
        try (PreparedStatement statement = prepare(connection, sql, params);
                ResultSet rows = statement.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rows.next()) {
                out.add(row.map(rows));
            }
            return out;
        }
    }

    private static int update(Connection connection, String sql, Object[] params) throws SQLException {
        try (PreparedStatement statement = prepare(connection, sql, params)) {
            return statement.executeUpdate();
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
        return new IllegalStateException("the editor's database failed: " + e.getMessage(), e);
    }
}
