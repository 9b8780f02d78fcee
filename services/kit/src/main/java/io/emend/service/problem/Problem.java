package io.emend.service.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * An RFC 7807 problem document, the body of every error a service answers.
 *
 * @param line   for an error in a text the user sent (a recipe, a JSONL file), the 1-based line it points at
 * @param errors for a field error, the field and its message
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(String type, String title, int status, String detail, String instance, Integer line,
                      List<FieldError> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";
    /** Every {@code type} is this plus the reason, e.g. {@code urn:emend:problem:job-not-found}. */
    public static final String TYPE_PREFIX = "urn:emend:problem:";

    /** RFC 9110's reason phrase for 422, which JAX-RS's status table lacks (the registry answers the same). */
    static final String UNPROCESSABLE = "Unprocessable Content";

    /** A problem with the status's reason phrase as its title and {@code TYPE_PREFIX + reason} as its type. */
    public static Problem of(int status, String reason, String detail, String instance, Integer line,
                             List<FieldError> errors) {
        Response.Status known = Response.Status.fromStatusCode(status);
        String title = known != null ? known.getReasonPhrase() : status == 422 ? UNPROCESSABLE : "HTTP " + status;
        return new Problem(TYPE_PREFIX + reason, title, status, detail, instance, line, errors);
    }

    /** This problem as a response with the problem media type. */
    public Response toResponse() {
        return Response.status(status).type(MEDIA_TYPE).entity(this).build();
    }

    /** 401 with the {@code WWW-Authenticate: Bearer} challenge every service answers without a valid token. */
    public static Response unauthorized(String instance) {
        return Response.fromResponse(of(401, "unauthorized", "a valid bearer token (RS256 JWT, issuer emend) is"
                + " required", instance, null, List.of()).toResponse())
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer").build();
    }

    /**
     * A routing or media-type failure Quarkus raised itself (404, 405, 406, 415 keep their status), or an internal
     * failure for a 5xx one.
     *
     * @param mediaHint what a 415 should tell the caller to send
     */
    public static Response web(WebApplicationException e, String instance, String service, String mediaHint) {
        int status = e.getResponse().getStatus();
        if (status >= 500) {
            return internal(e, instance, service);
        }
        String detail = switch (status) {
            case 415 -> mediaHint;
            case 404 -> "no such resource: " + instance;
            default -> e.getMessage();
        };
        return of(status, "http-" + status, detail, instance, null, List.of()).toResponse();
    }

    /** 500 with a log reference; the failure itself goes to the log under that reference, never to the caller. */
    public static Response internal(Exception e, String instance, String service) {
        String reference = UUID.randomUUID().toString();
        Logger.getLogger(Problem.class).errorf(e, "unexpected failure %s on %s", reference, instance);
        return of(500, "internal", "the " + service + " failed unexpectedly; log reference " + reference, instance,
                null, List.of()).toResponse();
    }

    public record FieldError(String field, String message) {
    }
}
