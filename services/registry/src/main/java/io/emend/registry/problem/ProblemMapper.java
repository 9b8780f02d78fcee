package io.emend.registry.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.quarkus.hibernate.validator.runtime.jaxrs.ResteasyReactiveViolationException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The registry's one translation from failures to RFC 7807 answers, and the only place that knows the status table.
 * Quarkus's built-in mappers for validation, JSON parsing and security would answer first with their own bodies, so the
 * same exception types are handled here too.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    private static final Map<Class<? extends RegistryException>, Integer> STATUS = Map.of(
            RegistryException.NotFound.class, 404,
            RegistryException.Conflict.class, 409,
            RegistryException.InvalidInput.class, 400,
            RegistryException.Unprocessable.class, 422,
            RegistryException.TooLarge.class, 413,
            RegistryException.RangeNotSatisfiable.class, 416);

    @ServerExceptionMapper
    public Response domain(RegistryException e, UriInfo uri) {
        int status = statusOf(e);
        Response.ResponseBuilder answer = Response.status(status)
                .type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.TYPE_PREFIX + e.type(), titleOf(status), status, e.getMessage(),
                        instance(uri), e.errors()));
        if (e instanceof RegistryException.RangeNotSatisfiable range) {
            answer.header("Content-Range", "bytes */" + range.size());
        }
        return answer.build();
    }

    @ServerExceptionMapper
    public Response validation(ConstraintViolationException e, UriInfo uri) {
        return invalid(e, uri);
    }

    @ServerExceptionMapper
    public Response validation(ResteasyReactiveViolationException e, UriInfo uri) {
        if (e.getConstraintViolations().stream().anyMatch(v -> v.getExecutableReturnValue() != null)) {
            return unexpected(e, uri);
        }
        return invalid(e, uri);
    }

    @ServerExceptionMapper
    public Response unreadable(MismatchedInputException e, UriInfo uri) {
        return badJson(e, uri);
    }

    @ServerExceptionMapper
    public Response unreadable(JsonProcessingException e, UriInfo uri) {
        return badJson(e, uri);
    }

    @ServerExceptionMapper
    public Response unauthenticated(UnauthorizedException e, UriInfo uri) {
        return unauthorized(uri);
    }

    @ServerExceptionMapper
    public Response unauthenticated(AuthenticationFailedException e, UriInfo uri) {
        return unauthorized(uri);
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, UriInfo uri) {
        return simple(403, "forbidden", "your token's roles do not allow this operation", uri).build();
    }

    /** Quarkus's own refusals: an unknown route (404), a wrong method (405), an unsupported media type (415)... */
    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        if (e.getCause() instanceof JsonProcessingException unreadable) {
            return badJson(unreadable, uri);
        }
        int status = e.getResponse().getStatus();
        if (status >= 500) {
            return unexpected(e, uri);
        }
        String detail = switch (status) {
            case 404 -> "no resource at " + instance(uri);
            case 405 -> "method not allowed on " + instance(uri);
            case 406 -> "none of the accepted media types can be produced";
            case 413 -> "request body too large";
            case 415 -> "unsupported media type, send application/json";
            default -> titleOf(status);
        };
        Response.ResponseBuilder answer = simple(status, slug(status), detail, uri);
        e.getResponse().getHeaders().forEach((name, values) -> {
            if (!name.equalsIgnoreCase(HttpHeaders.CONTENT_TYPE) && !name.equalsIgnoreCase(HttpHeaders.CONTENT_LENGTH)) {
                values.forEach(value -> answer.header(name, value));
            }
        });
        return answer.build();
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e, UriInfo uri) {
        String reference = UUID.randomUUID().toString();
        LOG.errorf(e, "unexpected failure on %s, reference %s", instance(uri), reference);
        return simple(500, "internal", "internal error; the registry log has the details under reference " + reference,
                uri).build();
    }

    private Response invalid(ConstraintViolationException e, UriInfo uri) {
        List<RegistryException.FieldError> errors = e.getConstraintViolations().stream()
                .map(v -> new RegistryException.FieldError(fieldOf(v), v.getMessage()))
                .sorted(Comparator.comparing(RegistryException.FieldError::field))
                .toList();
        String detail = errors.stream().map(f -> f.field() + ": " + f.message()).collect(Collectors.joining("; "));
        return Response.status(400).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.TYPE_PREFIX + "validation", titleOf(400), 400, detail, instance(uri), errors))
                .build();
    }

    private Response badJson(JsonProcessingException e, UriInfo uri) {
        String field = e instanceof JsonMappingException mapping ? pathOf(mapping) : "";
        String message = e.getOriginalMessage() == null ? "malformed JSON" : firstLine(e.getOriginalMessage());
        List<RegistryException.FieldError> errors = field.isEmpty()
                ? List.of() : List.of(new RegistryException.FieldError(field, message));
        String detail = field.isEmpty() ? "request body is not valid JSON: " + message : field + ": " + message;
        return Response.status(400).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.TYPE_PREFIX + "malformed-json", titleOf(400), 400, detail, instance(uri),
                        errors))
                .build();
    }

    private Response unauthorized(UriInfo uri) {
        return simple(401, "unauthorized", "a valid bearer token is required", uri)
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer")
                .build();
    }

    private static Response.ResponseBuilder simple(int status, String type, String detail, UriInfo uri) {
        return Response.status(status).type(Problem.MEDIA_TYPE)
                .entity(new Problem(Problem.TYPE_PREFIX + type, titleOf(status), status, detail, instance(uri),
                        List.of()));
    }

    static int statusOf(RegistryException e) {
        for (Class<?> kind = e.getClass(); kind != null; kind = kind.getSuperclass()) {
            Integer status = STATUS.get(kind);
            if (status != null) {
                return status;
            }
        }
        throw new IllegalStateException("no status for " + e.getClass().getName());
    }

    private static String titleOf(int status) {
        Response.Status known = Response.Status.fromStatusCode(status);
        if (known != null) {
            return known.getReasonPhrase();
        }
        return status == 422 ? "Unprocessable Content" : "HTTP " + status;
    }

    private static String slug(int status) {
        return titleOf(status).toLowerCase(java.util.Locale.ROOT).replace(' ', '-');
    }

    private static String instance(UriInfo uri) {
        return uri == null ? null : uri.getRequestUri().getRawPath();
    }

    /** {@code create.request.name} becomes {@code name}: the method and parameter names mean nothing to a client. */
    private static String fieldOf(ConstraintViolation<?> violation) {
        String path = violation.getPropertyPath().toString();
        String[] parts = path.split("\\.");
        if (parts.length <= 2) {
            return parts[parts.length - 1];
        }
        return String.join(".", java.util.Arrays.copyOfRange(parts, 2, parts.length));
    }

    private static String pathOf(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static String firstLine(String message) {
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
