package io.emend.merger.problem;

import io.emend.core.merge.MergeException;
import io.emend.core.merge.recipe.RecipeException;
import io.emend.merger.adapter.IncompatibleAdapters;
import io.emend.merger.job.IncompatibleInputs;
import io.emend.merger.job.InvalidRequest;
import io.emend.merger.job.JobFinished;
import io.emend.merger.job.JobNotFound;
import io.emend.merger.text.TextRejected;
import io.emend.service.input.InputNotFound;
import io.emend.service.input.InputTooLarge;
import io.emend.service.problem.Problem;
import io.emend.service.registry.RegistryUnavailable;
import io.emend.service.registry.UnknownReference;
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
 * The merger's one translation from failures to RFC 7807 answers, and the only place that knows the status table.
 * Quarkus's own mappers (security, routing, media types) would answer first with their bodies, so those types are
 * handled here too.
 */
public class ProblemMapper {

    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    /** Malformed text, an unknown key, method or parameter: the message carries {@code request:LINE:}. */
    @ServerExceptionMapper
    public Response recipe(RecipeException e, UriInfo uri) {
        return problem(400, "invalid-recipe", e.getMessage(), uri, e.line(), List.of());
    }

    /** A recipe core rejects beyond its syntax (e.g. a method that needs a base model without one). */
    @ServerExceptionMapper
    public Response merge(MergeException e, UriInfo uri) {
        return problem(400, "invalid-recipe", e.getMessage(), uri, null, List.of());
    }

    /**
     * Models that exist but cannot be merged as the recipe asks (architecture, shapes, missing tensors, layer ranges,
     * tokenizers, unreadable files), found by planning the recipe on their metadata before anything is queued.
     */
    @ServerExceptionMapper
    public Response inputs(IncompatibleInputs e, UriInfo uri) {
        return problem(IncompatibleInputs.STATUS, IncompatibleInputs.PROBLEM, e.getMessage(), uri, null, List.of());
    }

    @ServerExceptionMapper
    public Response request(InvalidRequest e, UriInfo uri) {
        return problem(400, "invalid-request", e.getMessage(), uri, null,
                List.of(new Problem.FieldError(e.field(), e.getMessage())));
    }

    /** A text reference that is malformed, too large or not text. */
    @ServerExceptionMapper
    public Response text(TextRejected e, UriInfo uri) {
        return problem(400, "invalid-text", e.getMessage(), uri, null,
                List.of(new Problem.FieldError(e.field(), e.getMessage())));
    }

    /** A text over the merger's limit, like a malformed one. */
    @ServerExceptionMapper
    public Response text(InputTooLarge e, UriInfo uri) {
        return problem(400, "invalid-text", e.getMessage(), uri, null,
                List.of(new Problem.FieldError(e.field(), e.getMessage())));
    }

    /** A text reference naming no blob or object. */
    @ServerExceptionMapper
    public Response text(InputNotFound e, UriInfo uri) {
        return problem(422, "unknown-text", e.getMessage(), uri, null,
                List.of(new Problem.FieldError(e.field(), e.getMessage())));
    }

    /** Adapters that exist but do not go together as asked (not adapters, other bases, shapes, rank). */
    @ServerExceptionMapper
    public Response adapters(IncompatibleAdapters e, UriInfo uri) {
        return problem(422, "incompatible-adapters", e.getMessage(), uri, null,
                List.of(new Problem.FieldError(e.field(), e.getMessage())));
    }

    @ServerExceptionMapper
    public Response reference(UnknownReference e, UriInfo uri) {
        return problem(422, "unknown-model-reference", e.getMessage(), uri, null,
                List.of(new Problem.FieldError("model", e.getMessage())));
    }

    @ServerExceptionMapper
    public Response notFound(JobNotFound e, UriInfo uri) {
        return problem(404, "job-not-found", e.getMessage(), uri, null, List.of());
    }

    @ServerExceptionMapper
    public Response finished(JobFinished e, UriInfo uri) {
        return problem(409, "job-finished", e.getMessage(), uri, null, List.of());
    }

    @ServerExceptionMapper
    public Response registry(RegistryUnavailable e, UriInfo uri) {
        LOG.warnf("registry call failed: %s", e.getMessage());
        return problem(502, "registry-unavailable", e.getMessage(), uri, null, List.of());
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
                + " (reading needs reader, submitting and cancelling need writer)", uri, null, List.of());
    }

    /** Routing and media-type failures Quarkus raises itself: 404, 405, 406, 415 keep their status. */
    @ServerExceptionMapper
    public Response web(WebApplicationException e, UriInfo uri) {
        return Problem.web(e, uri.getPath(), "merger", "send the recipe as application/json or application/yaml");
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e, UriInfo uri) {
        return Problem.internal(e, uri.getPath(), "merger");
    }

    private static Response problem(int status, String type, String detail, UriInfo uri, Integer line,
                                    List<Problem.FieldError> errors) {
        return Problem.of(status, type, detail, uri.getPath(), line, errors).toResponse();
    }
}
