package io.emend.editor.ledger;

import io.emend.service.auth.Roles;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.Optional;

/** The edit ledger over REST: which edits are live in a model's versions. */
@Path("/v1/models/{name}/edits")
@Produces(MediaType.APPLICATION_JSON)
public class LedgerResource {

    private final Ledger ledger;

    LedgerResource(Ledger ledger) {
        this.ledger = ledger;
    }

    /** Every edit live in some version of the model, or with {@code ?version=N} those live in that version. */
    @GET
    @Blocking
    @RolesAllowed(Roles.READER)
    public LedgerView.Page list(@PathParam("name") String name, @QueryParam("version") Integer version) {
        return new LedgerView.Page(name, version, ledger.edits(name, Optional.ofNullable(version)).stream()
                .map(LedgerView::of).toList());
    }
}
