package io.emend.trainer.job;

import io.emend.service.auth.Roles;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** Fine-tuning jobs over REST: submit, list, read, events (JSON or SSE), checkpoints, cancel, pause, resume. */
@Path("/v1/fine-tunes")
@Produces(MediaType.APPLICATION_JSON)
public class FineTuneResource {

    private final TrainingJobService service;

    FineTuneResource(TrainingJobService service) {
        this.service = service;
    }

    /** 202: the job is {@code validating_files}; Location is the job. */
    @POST
    @Blocking
    @RolesAllowed(Roles.WRITER)
    @Consumes(MediaType.APPLICATION_JSON)
    public Response submit(String body, UriInfo uri) {
        TrainingJob job = service.submit(TrainingRequests.parse(body));
        return Response.accepted(JobView.of(job))
                .location(uri.getBaseUriBuilder().path("v1/fine-tunes").path(job.id()).build())
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

    @GET
    @Path("{id}/events")
    @Blocking
    @RolesAllowed(Roles.READER)
    public JobEventView.Page events(@PathParam("id") String id) {
        return new JobEventView.Page(service.events(id));
    }

    /** With {@code Accept: text/event-stream}: the job's current state, then each change; ends when the job ends. */
    @GET
    @Path("{id}/events")
    @Blocking
    @RolesAllowed(Roles.READER)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<JobView> follow(@PathParam("id") String id) {
        return service.follow(id);
    }

    @GET
    @Path("{id}/checkpoints")
    @Blocking
    @RolesAllowed(Roles.READER)
    public CheckpointView.Page checkpoints(@PathParam("id") String id) {
        return new CheckpointView.Page(service.checkpoints(id));
    }

    /** 200: a running job stops at its next step; the answer shows the job as it is at this moment. */
    @POST
    @Path("{id}/cancel")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public JobView cancel(@PathParam("id") String id) {
        return JobView.of(service.cancel(id));
    }

    /** 200: the job checkpoints after its current step and turns paused. */
    @POST
    @Path("{id}/pause")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public JobView pause(@PathParam("id") String id) {
        return JobView.of(service.pause(id));
    }

    @POST
    @Path("{id}/resume")
    @Blocking
    @RolesAllowed(Roles.WRITER)
    public JobView resume(@PathParam("id") String id) {
        return JobView.of(service.resume(id));
    }
}
