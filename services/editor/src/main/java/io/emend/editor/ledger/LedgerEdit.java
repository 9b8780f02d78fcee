package io.emend.editor.ledger;

import io.emend.core.edit.EditRequest;
import java.time.Instant;
import java.util.List;

/**
 * One edit as the ledger knows it.
 *
 * @param model        the model it was introduced in
 * @param introducedIn the version of {@code model} whose job introduced it
 * @param position     its index among that job's requests
 * @param efficacy     the latest measurement (1 or 0 with a ground truth, else the rewrite accuracy); null before any
 * @param measuredIn   where that measurement was taken ({@code model:N}); null before any
 * @param presence     the versions it is live in
 */
public record LedgerEdit(String id, String model, int introducedIn, String jobId, String method, int position,
                         EditRequest request, Double efficacy, String measuredIn, Instant measuredAt,
                         Instant createdAt, List<Presence> presence) {

    public LedgerEdit {
        presence = List.copyOf(presence);
    }

    /**
     * A version an edit is live in.
     *
     * @param origin   {@code edit} when the version's delta carries it, {@code retained} when a retention check found
     *                 it holding on a descendant
     * @param efficacy the edit's efficacy measured on that version
     */
    public record Presence(String model, int number, String origin, Double efficacy, Instant measuredAt) {

        public static final String EDIT = "edit";
        public static final String RETAINED = "retained";

        public String ref() {
            return model + ":" + number;
        }
    }

    LedgerEdit withPresence(List<Presence> p) {
        return new LedgerEdit(id, model, introducedIn, jobId, method, position, request, efficacy, measuredIn,
                measuredAt, createdAt, p);
    }
}
