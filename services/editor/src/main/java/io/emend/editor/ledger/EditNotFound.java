package io.emend.editor.ledger;

/** No edit in the ledger has this id. */
public class EditNotFound extends RuntimeException {
    public EditNotFound(String id) {
        super("no edit " + id + " in the ledger");
    }
}
