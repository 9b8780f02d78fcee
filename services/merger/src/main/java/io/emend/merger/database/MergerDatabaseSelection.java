package io.emend.merger.database;

import io.emend.service.database.DatabaseSelection;

/** The merger's datasource, chosen from {@code emend.merger.db.*} (default: an H2 file at {@code .emend/db/merger}). */
public final class MergerDatabaseSelection extends DatabaseSelection {

    public MergerDatabaseSelection() {
        super("merger");
    }
}
