package io.emend.editor.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.alphaedit.WrittenKeys;
import io.emend.editor.ledger.LedgerEdit;
import io.emend.service.registry.ResolvedVersion;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a job computes, resolved from the registry and the ledger when it starts.
 *
 * @param base        the edit base: the nearest ancestor of {@code parent} that is not an edit version; every edit
 *                    version's delta applies to it
 * @param parent      the version the job starts from ({@code name:N})
 * @param prior       the delta over {@code base} the result keeps (the parent's, for an edit; none, for a rollback)
 * @param carried     the ledger's edits that {@code prior} carries, re-measured on the result
 * @param inherited   the ledger's edits live in {@code base} itself (a merge or fine-tune that kept earlier edits),
 *                    re-measured on the result: they stay live in it where they still hold
 * @param requests    the edits the job computes (the new ones; for a rollback, the survivors)
 * @param survivors   for a rollback, the ledger entries of {@code requests}; empty for an edit
 * @param rolledBack  for a rollback, the edit left out
 * @param priorKeys   for an AlphaEdit job, the keys the parent's AlphaEdit edits wrote ({@link WrittenKeys#FILE_NAME}
 *                    of the parent); none for other methods, a rollback, or a parent without that artifact
 */
public record EditPlan(ResolvedVersion base, String parent, EditDelta prior, List<LedgerEdit> carried,
                       List<LedgerEdit> inherited, List<EditRequest> requests, List<LedgerEdit> survivors, Optional<LedgerEdit> rolledBack,
                       EditMethod method, EditOptions options, EditGate gate, WrittenKeys priorKeys) {

    public EditPlan {
        carried = List.copyOf(carried);
        inherited = List.copyOf(inherited);
        requests = List.copyOf(requests);
        survivors = List.copyOf(survivors);
    }

    /** The ledger's edits measured on the result besides the new ones: the carried, then the inherited. */
    public List<LedgerEdit> remeasured() {
        return Stream.concat(carried.stream(), inherited.stream()).toList();
    }
}
