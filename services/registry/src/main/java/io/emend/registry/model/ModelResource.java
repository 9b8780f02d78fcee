package io.emend.registry.model;

import io.emend.registry.Name;
import io.emend.service.auth.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class ModelResource {

    private final ModelService models;

    ModelResource(ModelService models) {
        this.models = models;
    }

    public record CreateModelRequest(
            @NotNull @Pattern(regexp = Name.REGEX, message = Name.RULE) String name,
            @Size(max = 4000) String description,
            @Size(max = 128) String family,
            @Size(max = 64) List<@NotNull @Pattern(regexp = Name.REGEX, message = Name.RULE) String> tags) {
    }

    public record ModelResponse(String name, String description, String family, List<String> tags, boolean archived,
            Instant createdAt) {
        public static ModelResponse of(Model model) {
            return new ModelResponse(model.name(), model.description(), model.family(), model.tags(), model.archived(),
                    model.createdAt());
        }
    }

    public record ModelPage(List<ModelResponse> items, int page, int size, long total) {
    }

    @POST
    @RolesAllowed(Roles.WRITER)
    public Response create(@Valid @NotNull CreateModelRequest request, UriInfo uri) {
        Model model = models.create(new ModelService.NewModel(request.name(), request.description(), request.family(),
                request.tags()));
        return Response.created(uri.getAbsolutePathBuilder().path(model.name()).build())
                .entity(ModelResponse.of(model))
                .build();
    }

    @GET
    @RolesAllowed(Roles.READER)
    public ModelPage list(@QueryParam("tag") String tag,
            @QueryParam("page") @DefaultValue("0") @Min(0) int page,
            @QueryParam("size") @DefaultValue("20") @Min(1) @Max(100) int size) {
        ModelService.Page result = models.list(Optional.ofNullable(tag).filter(t -> !t.isEmpty()), page, size);
        return new ModelPage(result.items().stream().map(ModelResponse::of).toList(), result.page(), result.size(),
                result.total());
    }

    @GET
    @Path("{name}")
    @RolesAllowed(Roles.READER)
    public ModelResponse get(@PathParam("name") String name) {
        return ModelResponse.of(models.get(name));
    }

    @DELETE
    @Path("{name}")
    @RolesAllowed(Roles.WRITER)
    public Response archive(@PathParam("name") String name) {
        models.archive(name);
        return Response.noContent().build();
    }
}
