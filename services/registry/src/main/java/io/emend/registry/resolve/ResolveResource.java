package io.emend.registry.resolve;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.emend.registry.artifact.ManifestEntryResponse;
import io.emend.service.auth.Roles;
import io.emend.registry.version.Operation;
import io.emend.registry.version.VersionState;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.UUID;

@Path("/v1/resolve")
@Produces(MediaType.APPLICATION_JSON)
public class ResolveResource {

    private final ResolveService resolver;

    ResolveResource(ResolveService resolver) {
        this.resolver = resolver;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ResolveResponse(String model, int number, UUID id, VersionState state, Operation operation,
            List<ManifestEntryResponse> manifest, String alias) {
    }

    @GET
    @Path("{ref}")
    @RolesAllowed(Roles.READER)
    public ResolveResponse resolve(@PathParam("ref") String ref) {
        ResolveService.Resolved resolved = resolver.resolve(Reference.parse("ref", ref));
        var version = resolved.version();
        return new ResolveResponse(version.model(), version.number(), version.id(), version.state(),
                version.operation(), ManifestEntryResponse.of(version.manifest()), resolved.alias().orElse(null));
    }
}
