package io.emend.registry.artifact;

import io.emend.service.auth.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.core.UriInfo;
import java.io.InputStream;
import java.util.Optional;

/** A version's files by path: streamed uploads checked against the manifest, and ranged downloads. */
@Path("/v1/models/{name}/versions/{number}/artifacts/{path: .+}")
public class ArtifactResource {

    public static final String DIGEST_HEADER = "X-Emend-Sha256";

    private final ArtifactService artifacts;

    ArtifactResource(ArtifactService artifacts) {
        this.artifacts = artifacts;
    }

    public record UploadResponse(String path, String sha256, long size) {
    }

    @PUT
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @RolesAllowed(Roles.WRITER)
    public Response upload(@PathParam("name") String name, @PathParam("number") int number,
            @PathParam("path") String path, @HeaderParam(DIGEST_HEADER) String sha256, InputStream body,
            UriInfo uri) {
        ManifestEntry stored = artifacts.upload(name, number, path, sha256, body);
        return Response.created(uri.getAbsolutePath())
                .entity(new UploadResponse(stored.path(), stored.sha256(), stored.size()))
                .build();
    }

    @GET
    @Produces(MediaType.WILDCARD)
    @RolesAllowed(Roles.READER)
    public Response download(@PathParam("name") String name, @PathParam("number") int number,
            @PathParam("path") String path, @HeaderParam("Range") String range) {
        ManifestEntry entry = artifacts.downloadable(name, number, path);
        return send(artifacts, entry.sha256(), entry.size(), entry.mediaType(), range);
    }

    /** The bytes of a blob, whole or the one range asked for, with its digest as a strong ETag. */
    static Response send(ArtifactService artifacts, String sha256, long size, String mediaType, String rangeHeader) {
        Optional<ByteRange> range = ByteRange.parse(rangeHeader, size);
        ByteRange sent = range.orElse(new ByteRange(0, size - 1));
        Response.ResponseBuilder answer = Response.status(range.isPresent() ? 206 : 200)
                .type(mediaType)
                .header(HttpHeaders.ETAG, "\"" + sha256 + "\"")
                .header("Accept-Ranges", "bytes")
                .header(HttpHeaders.CONTENT_LENGTH, size == 0 ? 0 : sent.length());
        range.ifPresent(r -> answer.header("Content-Range", r.contentRange(size)));
        if (size == 0) {
            return answer.entity(new byte[0]).build();
        }
        InputStream bytes = artifacts.open(sha256, sent);
        StreamingOutput body = output -> {
            try (bytes) {
                bytes.transferTo(output);
            }
        };
        return answer.entity(body).build();
    }
}
