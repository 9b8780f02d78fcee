package io.emend.registry.artifact;

import io.emend.service.auth.Roles;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** Blobs by digest: what serving and jobs use once they know a file's sha256 from a manifest. */
@Path("/v1/blobs/{sha256}")
public class BlobResource {

    private final ArtifactService artifacts;

    BlobResource(ArtifactService artifacts) {
        this.artifacts = artifacts;
    }

    @GET
    @Produces(MediaType.WILDCARD)
    @RolesAllowed(Roles.READER)
    public Response get(@PathParam("sha256") String sha256, @HeaderParam("Range") String range) {
        long size = artifacts.blobSize(sha256);
        return ArtifactResource.send(artifacts, sha256, size, MediaType.APPLICATION_OCTET_STREAM, range);
    }
}
