package io.emend.trainer.problem;

import io.emend.service.problem.Problem;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.UnknownReference;
import io.emend.trainer.job.InvalidRequest;
import io.emend.trainer.job.JobConflict;
import io.emend.trainer.job.JobNotFound;
import io.emend.trainer.policy.PolicyNotFound;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The trainer's one translation from failures to RFC 7807 answers, and the only place that knows the status table.
 * Quarkus's own mappers (security, routing, media types) would answer first with their bodies, so those types are
 * handled here too.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    /** Malformed JSON, an unknown field, a value out of range: 400 naming the field. */
    @ServerExceptionMapper
    public Response request(InvalidRequest e, UriInfo uri) {
        return problem(400, "invalid-request", e.getMessage(), uri,
                List.of(new Problem.FieldError(e.field(), e.getMessage())));
    }

    @ServerExceptionMapper
    public Response reference(UnknownReference e, UriInfo uri) {
        return problem(422, "unknown-model-reference", e.getMessage(), uri,
                List.of(new Problem.FieldError("model", e.getMessage())));
    }

    @ServerExceptionMapper
    public Response notFound(JobNotFound e, UriInfo uri) {
        return problem(404, "job-not-found", e.getMessage(), uri, List.of());
    }

    @ServerExceptionMapper
    public Response notFound(PolicyNotFound e, UriInfo uri) {
        return problem(404, "policy-not-found", e.getMessage(), uri, List.of());
    }

    @ServerExceptionMapper
    public Response conflict(JobConflict e, UriInfo uri) {
        return problem(409, "job-state", e.getMessage(), uri, List.of());
    }

    @ServerExceptionMapper
    public Response registry(RegistryUnavailable e, UriInfo uri) {
        LOG.warnf("registry call failed: %s", e.getMessage());
        return problem(502, "registry-unavailable", e.getMessage(), uri, List.of());
    }

    @ServerExceptionMapper
    public Response unauthenticated(UnauthorizedException e, UriInfo uri) {
        return Problem.unauthorized(uri.getPath());
    }

    @ServerExceptionMapper
    public Response unauthenticated(AuthenticationFailedException e, UriInfo uri) {
        return Problem.unauthorized(uri.getPath());
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e, UriInfo uri) {
        return problem(403, "forbidden", "this token's roles do not allow " + uri.getPath()
                + " (reading needs reader; submitting, pausing, cancelling and writing policies need writer)", uri,
                List.of());
    }

    /** Routing and media-type failures Quarkus raises itself: 404, 405, 406, 415 keep their status. */
    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        return Problem.web(e, uri.getPath(), "trainer", "send the request as application/json");
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e, UriInfo uri) {
        return Problem.internal(e, uri.getPath(), "trainer");
    }

    private static Response problem(int status, String reason, String detail, UriInfo uri,
                                    List<Problem.FieldError> errors) {
        return Problem.of(status, reason, detail, uri.getPath(), null, errors).toResponse();
    }
}
