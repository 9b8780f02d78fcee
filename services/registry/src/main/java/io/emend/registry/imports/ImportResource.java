package io.emend.registry.imports;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.service.auth.Roles;
import io.emend.registry.version.Version;
import io.emend.registry.version.VersionResource;
import io.quarkus.security.ForbiddenException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.SecurityContext;
import jakarta.ws.rs.core.UriBuilder;
import jakarta.ws.rs.core.UriInfo;
import java.util.Optional;

@Path("/v1/models/{name}/imports")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class ImportResource {

    private final ImportService imports;
    private final ObjectMapper json;

    ImportResource(ImportService imports, ObjectMapper json) {
        this.imports = imports;
        this.json = json;
    }

    public record ImportRequest(@Size(max = 4096) String path, @Size(max = 1024) String prefix,
            @Size(max = 4000) String description, String alias) {
    }

    /** Moving an alias as part of an import is a promotion, so it needs the admin role like any alias move. */
    @POST
    @RolesAllowed(Roles.WRITER)
    public Response importModel(@PathParam("name") String name, @Valid @NotNull ImportRequest request,
            SecurityContext security, UriInfo uri) {
        if (request.alias() != null && !security.isUserInRole(Roles.ADMIN)) {
            throw new ForbiddenException("moving an alias needs the admin role");
        }
        Version version = imports.importModel(name, new ImportService.ImportRequest(
                new ImportService.Source(Optional.ofNullable(request.path()), Optional.ofNullable(request.prefix())),
                Optional.ofNullable(request.description()), Optional.ofNullable(request.alias()),
                security.getUserPrincipal().getName()));
        return Response.created(UriBuilder.fromUri(uri.getBaseUri())
                        .path("v1/models/{name}/versions/{number}").build(name, version.number()))
                .entity(VersionResource.VersionResponse.of(version, json))
                .build();
    }
}
