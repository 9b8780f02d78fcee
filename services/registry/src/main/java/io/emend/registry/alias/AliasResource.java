package io.emend.registry.alias;

import io.emend.service.auth.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.SecurityContext;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

@Path("/v1/models/{name}/aliases")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class AliasResource {

    private final AliasService aliases;

    AliasResource(AliasService aliases) {
        this.aliases = aliases;
    }

    public record MoveRequest(@NotNull @Positive Integer version, @Positive Integer expectedVersion) {
    }

    public record AliasSummary(String name, int version, Instant updatedAt) {
    }

    public record AliasList(List<AliasSummary> items) {
    }

    public record MoveResponse(int version, Integer previousVersion, String action, Instant movedAt, String movedBy,
            boolean undone) {
    }

    public record AliasResponse(String name, String model, int version, Instant updatedAt, List<MoveResponse> history) {
        static AliasResponse of(Alias alias) {
            return new AliasResponse(alias.name(), alias.model(), alias.version(), alias.updatedAt(),
                    alias.history().stream().map(m -> new MoveResponse(m.version(), m.previousVersion(), m.action(),
                            m.movedAt(), m.movedBy(), m.undone())).toList());
        }
    }

    @GET
    @RolesAllowed(Roles.READER)
    public AliasList list(@PathParam("name") String name) {
        return new AliasList(aliases.list(name).stream()
                .map(a -> new AliasSummary(a.name(), a.version(), a.updatedAt())).toList());
    }

    @GET
    @Path("{alias}")
    @RolesAllowed(Roles.READER)
    public AliasResponse get(@PathParam("name") String name, @PathParam("alias") String alias) {
        return AliasResponse.of(aliases.get(name, alias));
    }

    @PUT
    @Path("{alias}")
    @RolesAllowed(Roles.ADMIN)
    public AliasResponse move(@PathParam("name") String name, @PathParam("alias") String alias,
            @Valid @NotNull MoveRequest request, SecurityContext security) {
        OptionalInt expected = request.expectedVersion() == null
                ? OptionalInt.empty() : OptionalInt.of(request.expectedVersion());
        return AliasResponse.of(aliases.move(name, alias, request.version(), expected, who(security)));
    }

    @POST
    @Path("{alias}/rollback")
    @RolesAllowed(Roles.ADMIN)
    public AliasResponse rollback(@PathParam("name") String name, @PathParam("alias") String alias,
            SecurityContext security) {
        return AliasResponse.of(aliases.rollback(name, alias, who(security)));
    }

    private static String who(SecurityContext security) {
        return security.getUserPrincipal() == null ? "unknown" : security.getUserPrincipal().getName();
    }
}
