package io.emend.editor.ledger;

import io.emend.core.edit.EditRequest;
import io.emend.editor.database.Database;
import io.emend.editor.edit.EasyEditLayout;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The edit ledger ({@code edit}, {@code edit_presence}): every edit with its request and the version that introduced
 * it, where it is live, and its latest measured efficacy. Versions are never changed, so neither are presence rows:
 * a rollback adds a version whose rows leave the edit out.
 */
@ApplicationScoped
public class Ledger {

    private static final String EDIT_COLUMNS = "e.id, e.model, e.introduced_in, e.job_id, e.method, e.position,"
            + " e.request, e.efficacy, e.measured_model, e.measured_number, e.measured_at, e.created_at";

    private final Database db;

    Ledger(Database db) {
        this.db = db;
    }

    /** A new edit to record, with its efficacy on the version that introduces it. */
    public record NewEdit(EditRequest request, double efficacy) {
    }

    /** An edit already in the ledger measured again on a version. */
    public record Measurement(String editId, double efficacy) {
    }

    /**
     * Records what an edit or rollback job made, in one transaction: the new edits, and every edit the version's delta
     * carries (new and carried over) as live in it.
     *
     * @return the new edits' ids, in request order
     */
    public List<String> recordVersion(String model, int number, String jobId, String method, List<NewEdit> added,
                                      List<Measurement> carried) {
        Instant now = Instant.now();
        return db.transaction(tx -> {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < added.size(); i++) {
                NewEdit e = added.get(i);
                String id = UUID.randomUUID().toString();
                tx.update("INSERT INTO edit (id, model, introduced_in, job_id, method, position, request, efficacy,"
                                + " measured_model, measured_number, measured_at, created_at)"
                                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        id, model, number, jobId, method, i, EasyEditLayout.toJson(e.request()).toString(),
                        e.efficacy(), model, number, now, now);
                present(tx, id, model, number, LedgerEdit.Presence.EDIT, e.efficacy(), now);
                ids.add(id);
            }
            for (Measurement m : carried) {
                measured(tx, m, model, number, now);
                present(tx, m.editId(), model, number, LedgerEdit.Presence.EDIT, m.efficacy(), now);
            }
            return ids;
        });
    }

    /**
     * Records a retention check of {@code model:number}: every measurement updates its edit's latest efficacy, and
     * the edits that hold (efficacy at least {@code holds}) become live in the version.
     */
    public void recordRetention(String model, int number, List<Measurement> measured, double holds) {
        Instant now = Instant.now();
        db.transaction(tx -> {
            for (Measurement m : measured) {
                measured(tx, m, model, number, now);
                if (m.efficacy() >= holds) {
                    present(tx, m.editId(), model, number, LedgerEdit.Presence.RETAINED, m.efficacy(), now);
                }
            }
            return null;
        });
    }

    /**
     * Removes what {@link #recordVersion} wrote for a version that then failed to register, so the ledger never
     * names a version that is not ready.
     */
    public void forgetVersion(String model, int number) {
        db.transaction(tx -> {
            tx.update("DELETE FROM edit_presence WHERE model = ? AND version_number = ?", model, number);
            tx.update("DELETE FROM edit WHERE model = ? AND introduced_in = ?", model, number);
            return null;
        });
    }

    public Optional<LedgerEdit> find(String id) {
        return withPresence(db.query("SELECT " + EDIT_COLUMNS + " FROM edit e WHERE e.id = ?", Ledger::edit, id))
                .stream().findFirst();
    }

    /** The edits live in {@code model:number}, in the order they were introduced. */
    public List<LedgerEdit> live(String model, int number) {
        return withPresence(db.query("SELECT " + EDIT_COLUMNS + " FROM edit e JOIN edit_presence p ON p.edit_id = e.id"
                + " WHERE p.model = ? AND p.version_number = ? ORDER BY e.created_at, e.introduced_in, e.position",
                Ledger::edit, model, number));
    }

    /** The edits a version's delta carries (made by an edit or rollback job), in the order they were introduced. */
    public List<LedgerEdit> carried(String model, int number) {
        return withPresence(db.query("SELECT " + EDIT_COLUMNS + " FROM edit e JOIN edit_presence p ON p.edit_id = e.id"
                + " WHERE p.model = ? AND p.version_number = ? AND p.origin = ?"
                + " ORDER BY e.created_at, e.introduced_in, e.position",
                Ledger::edit, model, number, LedgerEdit.Presence.EDIT));
    }

    /** The edits live in {@code model:version}, or with no version every edit live in some version of the model. */
    public List<LedgerEdit> edits(String model, Optional<Integer> version) {
        return version.isPresent() ? live(model, version.get()) : liveInModel(model);
    }

    /** Every edit live in some version of {@code model}, oldest first. */
    public List<LedgerEdit> liveInModel(String model) {
        return withPresence(db.query("SELECT " + EDIT_COLUMNS + " FROM edit e WHERE e.id IN"
                + " (SELECT p.edit_id FROM edit_presence p WHERE p.model = ?)"
                + " ORDER BY e.created_at, e.introduced_in, e.position", Ledger::edit, model));
    }

    /** Whether any edit is live in the version. */
    public boolean hasLive(String model, int number) {
        return !db.query("SELECT 1 FROM edit_presence WHERE model = ? AND version_number = ?", r -> 1, model, number)
                .isEmpty();
    }

    private List<LedgerEdit> withPresence(List<LedgerEdit> edits) {
        if (edits.isEmpty()) {
            return edits;
        }
        Map<String, List<LedgerEdit.Presence>> presence = new LinkedHashMap<>();
        edits.forEach(e -> presence.put(e.id(), new ArrayList<>()));
        String marks = String.join(", ", Collections.nCopies(edits.size(), "?"));
        db.query("SELECT edit_id, model, version_number, origin, efficacy, measured_at FROM edit_presence"
                + " WHERE edit_id IN (" + marks + ") ORDER BY model, version_number", row -> {
                    presence.get(row.getString("edit_id")).add(new LedgerEdit.Presence(row.getString("model"),
                            row.getInt("version_number"), row.getString("origin"),
                            Database.nullableDouble(row, "efficacy"), Database.instant(row, "measured_at")));
                    return null;
                }, edits.stream().map(LedgerEdit::id).toArray());
        return edits.stream().map(e -> e.withPresence(presence.get(e.id()))).toList();
    }

    private static void present(Database.Statements tx, String editId, String model, int number, String origin,
                                double efficacy, Instant now) {
        // a retention check repeated on the same version (a redelivered event) replaces its earlier row
        tx.update("DELETE FROM edit_presence WHERE edit_id = ? AND model = ? AND version_number = ?", editId, model,
                number);
        tx.update("INSERT INTO edit_presence (edit_id, model, version_number, origin, efficacy, measured_at)"
                + " VALUES (?, ?, ?, ?, ?, ?)", editId, model, number, origin, efficacy, now);
    }

    private static void measured(Database.Statements tx, Measurement m, String model, int number, Instant now) {
        tx.update("UPDATE edit SET efficacy = ?, measured_model = ?, measured_number = ?, measured_at = ?"
                + " WHERE id = ?", m.efficacy(), model, number, now, m.editId());
    }

    private static LedgerEdit edit(ResultSet row) throws SQLException {
        String measuredModel = row.getString("measured_model");
        int measuredNumber = row.getInt("measured_number");
        return new LedgerEdit(row.getString("id"), row.getString("model"), row.getInt("introduced_in"),
                row.getString("job_id"), row.getString("method"), row.getInt("position"),
                EasyEditLayout.read(row.getString("request")), Database.nullableDouble(row, "efficacy"),
                measuredModel == null ? null : measuredModel + ":" + measuredNumber,
                Database.instant(row, "measured_at"), Database.instant(row, "created_at"), List.of());
    }
}
