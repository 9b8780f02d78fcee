package io.emend.merger.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * An RFC 7807 problem document, the body of every error the merger answers.
 *
 * @param line   for a recipe error, the 1-based line of the request body it points at
 * @param errors for a field error, the field and its message
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(String type, String title, int status, String detail, String instance, Integer line,
                      List<FieldError> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";
    static final String TYPE_PREFIX = "urn:emend:problem:";

    public record FieldError(String field, String message) {
    }
}
