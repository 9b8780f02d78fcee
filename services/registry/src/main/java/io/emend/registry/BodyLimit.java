package io.emend.registry;

import io.emend.registry.problem.RegistryException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import java.util.regex.Pattern;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Bounds JSON request bodies before they are read. The HTTP layer's own limit is set very high because artifact
 * uploads stream gigabytes (each is bounded by the size its manifest declares instead), so every other body is
 * checked here against {@code emend.registry.limits.json-body}. A body without a length would have to be read to be
 * measured, so one is asked for.
 */
public class BodyLimit {

    private static final Pattern ARTIFACT_UPLOAD = Pattern.compile("/v1/models/[^/]+/versions/[^/]+/artifacts/.+");

    private final RegistryConfig config;

    BodyLimit(RegistryConfig config) {
        this.config = config;
    }

    @ServerRequestFilter(preMatching = true)
    public void check(ContainerRequestContext request) {
        if (request.getMethod().equals("PUT") && ARTIFACT_UPLOAD.matcher(request.getUriInfo().getPath()).matches()) {
            return;
        }
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        long limit = config.limits().jsonBody();
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                throw new RegistryException.InvalidInput("invalid-content-length", "Content-Length '" + length
                        + "' is not a number");
            }
            if (declared > limit) {
                throw new RegistryException.TooLarge("body-too-large", "request body has " + declared
                        + " bytes; the limit is " + limit);
            }
        } else if (request.getHeaderString("Transfer-Encoding") != null) {
            throw new LengthRequired();
        }
    }

    /** A chunked JSON body: the registry needs its length up front to bound it. */
    public static final class LengthRequired extends RegistryException.InvalidInput {
        LengthRequired() {
            super("length-required", "send JSON bodies with a Content-Length header");
        }
    }
}
