package io.emend.editor.edit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a rollback job stores as its request.
 *
 * @param edit the ledger id of the edit to leave out
 */
public record RollbackRequest(String edit) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static RollbackRequest read(String json) {
        try {
            return JSON.readValue(json, RollbackRequest.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a rollback job's request is not {\"edit\": id}: " + json, e);
        }
    }
}
