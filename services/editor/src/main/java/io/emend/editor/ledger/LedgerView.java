package io.emend.editor.ledger;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.emend.editor.edit.EasyEditLayout;
import java.time.Instant;
import java.util.List;

/**
 * An edit on the wire.
 *
 * @param introducedIn the version whose job introduced it ({@code model:N})
 * @param request      the request, in the EasyEdit / CounterFact layout it was sent in
 * @param efficacy     the latest measurement, taken on {@code measuredIn}
 * @param liveIn       every version it is live in, with its efficacy there and whether the version's delta carries it
 *                     ({@code edit}) or a retention check found it holding ({@code retained})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LedgerView(String id, String model, String introducedIn, String method, JsonNode request,
                         Double efficacy, String measuredIn, Instant measuredAt, List<Live> liveIn,
                         Instant createdAt) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Live(String version, String origin, Double efficacy, Instant measuredAt) {
    }

    public static LedgerView of(LedgerEdit e) {
        return new LedgerView(e.id(), e.model(), e.model() + ":" + e.introducedIn(), e.method(),
                EasyEditLayout.toJson(e.request()), e.efficacy(), e.measuredIn(), e.measuredAt(),
                e.presence().stream().map(p -> new Live(p.ref(), p.origin(), p.efficacy(), p.measuredAt())).toList(),
                e.createdAt());
    }

    /** The edits of a model or version, oldest first. */
    public record Page(String model, Integer version, List<LedgerView> items) {
    }
}
