package io.emend.trainer.policy;

import io.emend.service.auth.Roles;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;

/** Retraining policies over REST: create, list, read, replace, delete. */
@Path("/v1/retraining-policies")
@Produces(MediaType.APPLICATION_JSON)
public class RetrainingPolicyResource {

    private final RetrainingPolicyService service;

    RetrainingPolicyResource(RetrainingPolicyService service) {
        this.service = service;
    }

    /** A page of policies, oldest first. */
    public record Page(List<RetrainingPolicy> data) {
    }

    @POST
    @Blocking
    @RolesAllowed(Roles.WRITER)
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(String body, UriInfo uri) {
        RetrainingPolicy policy = service.create(body);
        return Response.created(uri.getBaseUriBuilder().path("v1/retraining-policies").path(policy.id()).build())
                .entity(policy).build();
    }

    @GET
    @Blocking
    @RolesAllowed(Roles.READER)
    public Page list() {
        return new Page(service.list());
    }

    @GET
    @Path("{id}")
    @Blocking
    @RolesAllowed(Roles.READER)
    public RetrainingPolicy get(@PathParam("id") String id) {
        return service.get(id);
    }

    @PUT
    @Path("{id}")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    @Consumes(MediaType.APPLICATION_JSON)
    public RetrainingPolicy replace(@PathParam("id") String id, String body) {
        return service.replace(id, body);
    }

    @DELETE
    @Path("{id}")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public Response delete(@PathParam("id") String id) {
        service.delete(id);
        return Response.noContent().build();
    }
}
