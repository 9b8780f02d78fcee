package io.emend.editor.edit;

import com.fasterxml.jackson.databind.JsonNode;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.alphaedit.WrittenKeys;
import io.emend.editor.EditorConfig;
import io.emend.editor.ledger.Ledger;
import io.emend.editor.ledger.LedgerEdit;
import io.emend.service.input.InputCache;
import io.emend.service.registry.RegistryClient;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.ResolvedVersion;
import io.emend.service.registry.VersionDetails;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a stored job into an {@link EditPlan}: finds the edit base of the parent (an edit version names it in its
 * recipe's {@code base}; any other version is its own base), the parent's delta and the ledger's edits it carries.
 */
@ApplicationScoped
public class EditPlanner {

    /** The artifact holding an edit version's cumulative delta over its base. */
    public static final String DELTA_FILE = EditDelta.FILE_NAME;
    /** The artifact holding the base's key statistics, listed by every edit version made from it. */
    public static final String STATISTICS_FILE = "key_statistics.safetensors";
    /** The recipe field naming an edit version's base. */
    public static final String BASE = "base";

    private final RegistryClient registry;
    private final InputCache cache;
    private final Ledger ledger;
    private final int maxEdits;

    EditPlanner(RegistryClient registry, InputCache cache, Ledger ledger, EditorConfig config) {
        this.registry = registry;
        this.cache = cache;
        this.ledger = ledger;
        this.maxEdits = config.limits().maxEdits();
    }

    public EditPlan plan(EditJob job) throws IOException {
        VersionDetails parent = version(job.parent());
        Start start = start(parent);
        if (EditJob.ROLLBACK.equals(job.operation())) {
            String editId = RollbackRequest.read(job.request()).edit();
            List<LedgerEdit> carried = ledger.carried(parent.model(), parent.number());
            LedgerEdit removed = carried.stream().filter(e -> e.id().equals(editId)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("edit " + editId + " is not carried by "
                            + parent.exactRef() + " any more"));
            List<LedgerEdit> survivors = carried.stream().filter(e -> !e.id().equals(editId)).toList();
            EditMethod method = EditMethod.parse(parent.recipe() == null ? removed.method()
                    : parent.recipe().path("method").asText(removed.method()));
            return new EditPlan(start.base(), parent.exactRef(), EditDelta.empty(method.id()), List.of(),
                    inherited(start.base()), survivors.stream().map(LedgerEdit::request).toList(), survivors, Optional.of(removed), method,
                    sameOptions(parent.recipe()), EditGate.open(), WrittenKeys.none());
        }
        EditSubmission submission = EditSubmission.parse(job.request(), maxEdits);
        List<LedgerEdit> carried = start.prior().edits() == 0 ? List.of()
                : ledger.carried(parent.model(), parent.number());
        WrittenKeys priorKeys = submission.method() == EditMethod.ALPHAEDIT && start.prior().edits() > 0
                ? writtenKeys(parent) : WrittenKeys.none();
        return new EditPlan(start.base(), parent.exactRef(), start.prior(), carried, inherited(start.base()),
                submission.requests(), List.of(),
                Optional.empty(), submission.method(), submission.options(), submission.gate(), priorKeys);
    }

    /**
     * The keys an edit version's AlphaEdit edits wrote: its {@link WrittenKeys#FILE_NAME}, or none when it has no such
     * artifact (its edits were made by ROME or MEMIT, whose keys are not recorded).
     */
    private WrittenKeys writtenKeys(VersionDetails version) throws IOException {
        Optional<ResolvedVersion.ManifestEntry> entry = version.manifest().stream()
                .filter(e -> e.path().equals(WrittenKeys.FILE_NAME)).findFirst();
        return entry.isEmpty() ? WrittenKeys.none() : WrittenKeys.read(cache.blob(entry.get()));
    }

    /** The edits live in the base through a retention check (an edit base is never an edit version itself). */
    private List<LedgerEdit> inherited(ResolvedVersion base) {
        return ledger.live(base.model(), base.number());
    }

    /**
     * The layers and seed the rolled-back version was made with, so the survivors are recomputed as they were
     * computed before; defaults where its recipe does not say.
     */
    private static EditOptions sameOptions(JsonNode recipe) {
        if (recipe == null) {
            return EditOptions.defaults();
        }
        Optional<List<Integer>> layers = Optional.empty();
        if (recipe.path("layers").isArray() && !recipe.path("layers").isEmpty()) {
            List<Integer> list = new ArrayList<>();
            recipe.path("layers").forEach(l -> list.add(l.asInt()));
            layers = Optional.of(list);
        }
        JsonNode options = recipe.path("request").path("options");
        return new EditOptions(layers, options.path("seed").asLong(0),
                options.path("batchSize").asInt(EditOptions.DEFAULT_BATCH_SIZE));
    }

    private record Start(ResolvedVersion base, EditDelta prior) {
    }

    /** The edit base of {@code parent} and the delta over it that {@code parent} is. */
    private Start start(VersionDetails parent) throws IOException {
        JsonNode recipe = parent.recipe();
        if (!"edit".equals(parent.operation()) || recipe == null || !recipe.hasNonNull(BASE)) {
            return new Start(registry.resolve(parent.exactRef()), EditDelta.empty("none"));
        }
        ResolvedVersion base = registry.resolve(recipe.get(BASE).asText());
        ResolvedVersion.ManifestEntry deltaEntry = parent.manifest().stream()
                .filter(e -> e.path().equals(DELTA_FILE)).findFirst()
                .orElseThrow(() -> new RegistryUnavailable("edit version " + parent.exactRef() + " has no "
                        + DELTA_FILE + " in its manifest"));
        return new Start(base, EditDelta.read(cache.blob(deltaEntry)));
    }

    private VersionDetails version(String exactRef) {
        int colon = exactRef.lastIndexOf(':');
        return registry.version(exactRef.substring(0, colon), Integer.parseInt(exactRef.substring(colon + 1)));
    }
}
