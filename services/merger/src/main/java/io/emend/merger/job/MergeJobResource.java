package io.emend.merger.job;

import io.emend.service.auth.Roles;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** Merge jobs over REST: submit (JSON or YAML), list, read, cancel, follow as server-sent events. */
@Path("/v1/merges")
@Produces(MediaType.APPLICATION_JSON)
public class MergeJobResource {

    private final MergeJobService service;

    MergeJobResource(MergeJobService service) {
        this.service = service;
    }

    @POST
    @Blocking
    @RolesAllowed(Roles.WRITER)
    @Consumes({MediaType.APPLICATION_JSON, "application/yaml", "application/x-yaml", "text/yaml"})
    public Response submit(String body, @HeaderParam(HttpHeaders.CONTENT_TYPE) String contentType, UriInfo uri)
            throws java.io.IOException {
        boolean json = contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).contains("json");
        MergeJob job = service.submit(body, json);
        return Response.accepted(JobView.of(job))
                .location(uri.getBaseUriBuilder().path("v1/merges").path(job.id()).build())
                .build();
    }

    @GET
    @Blocking
    @RolesAllowed(Roles.READER)
    public JobView.Page list() {
        return new JobView.Page(service.list().stream().map(JobView::of).toList());
    }

    @GET
    @Path("{id}")
    @Blocking
    @RolesAllowed(Roles.READER)
    public JobView get(@PathParam("id") String id) {
        return JobView.of(service.get(id));
    }

    /** 202: a running job stops at its next tensor; the answer shows the job as it is at this moment. */
    @DELETE
    @Path("{id}")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public Response cancel(@PathParam("id") String id) {
        return Response.accepted(JobView.of(service.cancel(id))).build();
    }

    @GET
    @Path("{id}/events")
    @Blocking
    @RolesAllowed(Roles.READER)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<JobView> events(@PathParam("id") String id) {
        return service.follow(id);
    }
}
