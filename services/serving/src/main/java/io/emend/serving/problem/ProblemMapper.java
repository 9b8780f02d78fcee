package io.emend.serving.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.emend.serving.batch.QueueFull;
import io.emend.serving.model.InvalidRequest;
import io.emend.serving.model.ModelNotFound;
import io.emend.serving.model.ModelUnavailable;
import io.emend.serving.openai.ContextLengthExceeded;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The service's one error table. Unlike Emend's other services (RFC 7807 problem JSON), serving answers in OpenAI's
 * error shape {@code {"error": {"message", "type", "param", "code"}}}, because its clients are OpenAI clients and
 * read exactly that. Quarkus's own exceptions (unreadable JSON, unknown path, wrong method or media type) are mapped
 * here too, so no answer ever comes in another shape; anything unexpected is a 500 with a log reference.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    /** OpenAI's error body. */
    public record Error(String message, String type, String param, String code) {
    }

    public record Body(Error error) {
    }

    private static Response answer(int status, String message, String type, String param, String code) {
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(new Body(new Error(message, type, param, code))).build();
    }

    @ServerExceptionMapper
    public Response invalid(InvalidRequest e) {
        return answer(400, e.getMessage(), "invalid_request_error", e.param(), null);
    }

    @ServerExceptionMapper
    public Response tooLong(ContextLengthExceeded e) {
        return answer(400, e.getMessage(), "invalid_request_error", e.param(), "context_length_exceeded");
    }

    @ServerExceptionMapper
    public Response notFound(ModelNotFound e) {
        return answer(404, e.getMessage(), "invalid_request_error", "model", "model_not_found");
    }

    @ServerExceptionMapper
    public Response queueFull(QueueFull e) {
        return Response.fromResponse(answer(429, e.getMessage(), "requests", null, "rate_limit_exceeded"))
                .header("Retry-After", "1").build();
    }

    @ServerExceptionMapper
    public Response unavailable(ModelUnavailable e) {
        LOG.warn(e.getMessage(), e.getCause());
        return answer(503, e.getMessage(), "server_error", "model", "model_unavailable");
    }

    @ServerExceptionMapper
    public Response unreadable(JsonProcessingException e) {
        String where = e instanceof MismatchedInputException m && !m.getPath().isEmpty()
                ? m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                        .collect(Collectors.joining(".")).replace(".[", "[")
                : null;
        String message = e instanceof InvalidFormatException f
                ? "'" + f.getValue() + "' is not a valid " + f.getTargetType().getSimpleName().toLowerCase()
                : e.getOriginalMessage();
        return answer(400, "We could not parse the JSON body of your request: " + message, "invalid_request_error",
                where, null);
    }

    /** Quarkus maps these two itself, in its own shape, unless a mapper names them exactly. */
    @ServerExceptionMapper
    public Response mismatched(MismatchedInputException e) {
        return unreadable(e);
    }

    @ServerExceptionMapper
    public Response wrongFormat(InvalidFormatException e) {
        return unreadable(e);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        if (e.getCause() instanceof JsonProcessingException json) {
            return unreadable(json);
        }
        String message = switch (e) {
            case NotFoundException n -> "Unknown request URL. Please check the URL and method.";
            case NotAllowedException n -> "Method not allowed for this URL.";
            case NotSupportedException n -> "Send the request body as application/json.";
            default -> e.getMessage();
        };
        return answer(status, message, status >= 500 ? "server_error" : "invalid_request_error", null, null);
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        String reference = UUID.randomUUID().toString();
        LOG.errorf(e, "unexpected error, reference %s", reference);
        return answer(500, "The server had an error while processing your request (reference " + reference + ").",
                "server_error", null, null);
    }

    /** The event a stream sends when its generation fails after the response has begun. */
    public static Body streamError(RuntimeException e) {
        String reference = UUID.randomUUID().toString();
        LOG.errorf(e, "generation failed mid-stream, reference %s", reference);
        return new Body(new Error("The generation failed (reference " + reference + ").", "server_error", null, null));
    }
}
