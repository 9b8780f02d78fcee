package io.emend.editor.retention;

import io.emend.service.auth.Roles;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** Promotion behind the retention gate: the alias moves only to a version that kept its inherited edits. */
@Path("/v1/models/{name}/versions/{number}/promotion")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class PromotionResource {

    private final Promotion promotion;

    PromotionResource(Promotion promotion) {
        this.promotion = promotion;
    }

    /** 200 with the moved alias; 409 when the gate refuses. Moving an alias is an admin's act, as in the registry. */
    @POST
    @Blocking
    @RolesAllowed(Roles.ADMIN)
    public Promotion.Result promote(@PathParam("name") String name, @PathParam("number") int number,
                                    Promotion.Request request) {
        return promotion.promote(name, number, request);
    }
}
