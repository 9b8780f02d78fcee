package io.emend.editor.database;

import io.emend.service.database.DatabaseSelection;

/** The editor's datasource, chosen from {@code emend.editor.db.*} (default: an H2 file at {@code .emend/db/editor}). */
public final class EditorDatabaseSelection extends DatabaseSelection {

    public EditorDatabaseSelection() {
        super("editor");
    }
}
