package io.emend.service.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;
import java.util.List;

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

    /** A problem with the status's reason phrase as its title and {@code TYPE_PREFIX + reason} as its type. */
    public static Problem of(int status, String reason, String detail, String instance, Integer line,
                             List<FieldError> errors) {
        Response.Status known = Response.Status.fromStatusCode(status);
        return new Problem(TYPE_PREFIX + reason, known == null ? "HTTP " + status : known.getReasonPhrase(), status,
                detail, instance, line, errors);
    }

    /** This problem as a response with the problem media type. */
    public Response toResponse() {
        return Response.status(status).type(MEDIA_TYPE).entity(this).build();
    }

    public record FieldError(String field, String message) {
    }
}
