package io.emend.registry.version;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.registry.artifact.ManifestEntryResponse;
import io.emend.service.auth.Roles;
import io.emend.registry.problem.RegistryException;
import jakarta.annotation.security.RolesAllowed;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

@Path("/v1/models/{name}/versions")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class VersionResource {

    static final String MERMAID = "text/vnd.mermaid";

    private final VersionService versions;
    private final ObjectMapper json;

    VersionResource(VersionService versions, ObjectMapper json) {
        this.versions = versions;
        this.json = json;
    }

    public record ParentRequest(@NotBlank String ref, @NotNull ParentRole role) {
    }

    public record ManifestEntryRequest(@NotBlank String path,
            @NotNull @Pattern(regexp = "[0-9a-f]{64}", message = "must be 64 lower-case hex digits") String sha256,
            @NotNull @PositiveOrZero Long size, @Size(max = 255) String mediaType) {
    }

    /** {@code number} is optional: a producer that retries can name the number it expects, and gets 409 on a repeat. */
    public record CreateVersionRequest(@NotNull Operation operation,
            @Size(max = 64) List<@NotNull @Valid ParentRequest> parents, ObjectNode recipe, ObjectNode metrics,
            @Size(max = 10000) List<@NotNull @Valid ManifestEntryRequest> manifest, @Positive Integer number) {
    }

    public record StateRequest(@NotNull VersionState state, @Size(max = 4000) String reason) {
    }

    public record ParentResponse(String model, int number, ParentRole role) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record VersionResponse(UUID id, String model, int number, VersionState state, Operation operation,
            JsonNode recipe, JsonNode metrics, List<ParentResponse> parents, List<ManifestEntryResponse> manifest,
            Instant createdAt, String reason) {

        public static VersionResponse of(Version version, ObjectMapper json) {
            return new VersionResponse(version.id(), version.model(), version.number(), version.state(),
                    version.operation(), tree(json, version.recipe()), tree(json, version.metrics()),
                    version.parents().stream().map(p -> new ParentResponse(p.model(), p.number(), p.role())).toList(),
                    ManifestEntryResponse.of(version.manifest()), version.createdAt(), version.reason());
        }
    }

    public record VersionList(List<VersionResponse> items) {
    }

    public record NodeRef(String model, int number) {
    }

    public record LineageNode(String model, int number, Operation operation, VersionState state) {
    }

    public record LineageEdge(NodeRef from, NodeRef to, ParentRole role) {
    }

    public record LineageResponse(NodeRef root, List<LineageNode> nodes, List<LineageEdge> edges) {
    }

    @POST
    @RolesAllowed(Roles.WRITER)
    public Response create(@PathParam("name") String name, @Valid @NotNull CreateVersionRequest request, UriInfo uri) {
        Version version = versions.create(name, new VersionService.NewVersion(request.operation(),
                request.parents() == null ? List.of()
                        : request.parents().stream().map(p -> new VersionService.ParentSpec(p.ref(), p.role())).toList(),
                request.recipe(), request.metrics(),
                request.manifest() == null ? List.of()
                        : request.manifest().stream().map(e -> new VersionService.EntrySpec(e.path(), e.sha256(),
                                e.size(), e.mediaType())).toList(),
                request.number() == null ? OptionalInt.empty() : OptionalInt.of(request.number())));
        return Response.created(uri.getAbsolutePathBuilder().path(Integer.toString(version.number())).build())
                .entity(response(version))
                .build();
    }

    @GET
    @RolesAllowed(Roles.READER)
    public VersionList list(@PathParam("name") String name, @QueryParam("state") String state) {
        Optional<VersionState> filter = Optional.ofNullable(state).filter(s -> !s.isEmpty()).map(s -> {
            try {
                return VersionState.of(s);
            } catch (IllegalArgumentException e) {
                throw new RegistryException.InvalidInput("invalid-state", e.getMessage(),
                        List.of(new RegistryException.FieldError("state", e.getMessage())));
            }
        });
        return new VersionList(versions.list(name, filter).stream().map(this::response).toList());
    }

    @GET
    @Path("{number}")
    @RolesAllowed(Roles.READER)
    public VersionResponse get(@PathParam("name") String name, @PathParam("number") int number) {
        return response(versions.get(name, number));
    }

    @PUT
    @Path("{number}/metrics")
    @RolesAllowed(Roles.WRITER)
    public VersionResponse metrics(@PathParam("name") String name, @PathParam("number") int number,
            @NotNull ObjectNode metrics) {
        return response(versions.mergeMetrics(name, number, metrics));
    }

    @POST
    @Path("{number}/state")
    @RolesAllowed(Roles.WRITER)
    public VersionResponse state(@PathParam("name") String name, @PathParam("number") int number,
            @Valid @NotNull StateRequest request) {
        return response(versions.changeState(name, number, request.state(), request.reason()));
    }

    @GET
    @Path("{number}/lineage")
    @Produces({MediaType.APPLICATION_JSON, MERMAID})
    @RolesAllowed(Roles.READER)
    public Response lineage(@PathParam("name") String name, @PathParam("number") int number,
            @QueryParam("direction") @DefaultValue("both") String direction, @QueryParam("format") String format,
            HttpHeaders headers) {
        Lineage lineage = versions.lineage(name, number, direction(direction));
        boolean mermaid = "mermaid".equals(format) || (format == null && headers.getAcceptableMediaTypes().stream()
                .findFirst().map(type -> type.isCompatible(MediaType.valueOf(MERMAID)) && !type.isWildcardType())
                .orElse(false));
        if (mermaid) {
            return Response.ok(lineage.toMermaid(), MERMAID).build();
        }
        return Response.ok(new LineageResponse(ref(lineage.root()),
                lineage.nodes().stream().map(v -> new LineageNode(v.model(), v.number(), v.operation(), v.state()))
                        .toList(),
                lineage.edges().stream().map(e -> new LineageEdge(ref(e.from()), ref(e.to()), e.role())).toList()),
                MediaType.APPLICATION_JSON).build();
    }

    private static Lineage.Direction direction(String text) {
        try {
            return Lineage.Direction.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new RegistryException.InvalidInput("invalid-direction",
                    "direction must be ancestors, descendants or both, not '" + text + "'",
                    List.of(new RegistryException.FieldError("direction",
                            "must be ancestors, descendants or both")));
        }
    }

    private static NodeRef ref(Version version) {
        return new NodeRef(version.model(), version.number());
    }

    private VersionResponse response(Version version) {
        return VersionResponse.of(version, json);
    }

    private static JsonNode tree(ObjectMapper json, String text) {
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
