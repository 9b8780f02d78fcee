package io.emend.editor.edit;

import io.emend.service.auth.Roles;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.Optional;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** Edit jobs over REST: submit, list, read, cancel, follow as server-sent events; roll one edit back. */
@Path("/v1/edits")
@Produces(MediaType.APPLICATION_JSON)
public class EditJobResource {

    private final EditJobService service;

    EditJobResource(EditJobService service) {
        this.service = service;
    }

    @POST
    @Blocking
    @RolesAllowed(Roles.WRITER)
    @Consumes(MediaType.APPLICATION_JSON)
    public Response submit(String body, UriInfo uri) {
        EditJob job = service.submit(body);
        return Response.accepted(JobView.of(job))
                .location(uri.getBaseUriBuilder().path("v1/edits/jobs").path(job.id()).build())
                .build();
    }

    @GET
    @Path("jobs")
    @Blocking
    @RolesAllowed(Roles.READER)
    public JobView.Page list() {
        return new JobView.Page(service.list().stream().map(JobView::of).toList());
    }

    @GET
    @Path("jobs/{id}")
    @Blocking
    @RolesAllowed(Roles.READER)
    public JobView get(@PathParam("id") String id) {
        return JobView.of(service.get(id));
    }

    /** 202: a running job stops at its next step; the answer shows the job as it is at this moment. */
    @DELETE
    @Path("jobs/{id}")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public Response cancel(@PathParam("id") String id) {
        return Response.accepted(JobView.of(service.cancel(id))).build();
    }

    /**
     * Rolls one edit back: 202 with the rollback job, which makes a new version without the edit (from the newest
     * version carrying it, or {@code version}) and moves {@code alias} to it when given.
     */
    @DELETE
    @Path("{id}")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public Response rollback(@PathParam("id") String id, @QueryParam("version") Integer version,
                             @QueryParam("alias") String alias, UriInfo uri) {
        EditJob job = service.rollback(id, Optional.ofNullable(version), Optional.ofNullable(alias));
        return Response.accepted(JobView.of(job))
                .location(uri.getBaseUriBuilder().path("v1/edits/jobs").path(job.id()).build())
                .build();
    }

    @GET
    @Path("jobs/{id}/events")
    @Blocking
    @RolesAllowed(Roles.READER)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<JobView> events(@PathParam("id") String id) {
        return service.follow(id);
    }
}
