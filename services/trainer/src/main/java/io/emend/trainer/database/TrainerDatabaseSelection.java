package io.emend.trainer.database;

import io.emend.service.database.DatabaseSelection;

/** The trainer's datasource, chosen from {@code emend.trainer.db.*} (default: an H2 file at {@code .emend/db/trainer}). */
public final class TrainerDatabaseSelection extends DatabaseSelection {

    public TrainerDatabaseSelection() {
        super("trainer");
    }
}
