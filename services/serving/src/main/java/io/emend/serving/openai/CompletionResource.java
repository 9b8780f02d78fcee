package io.emend.serving.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.serving.batch.TokenOutput;
import io.emend.serving.model.InvalidRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import io.vertx.core.http.HttpServerResponse;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** {@code POST /v1/completions}: OpenAI's text completion, streamed as SSE or answered whole. */
@Path("/v1/completions")
public class CompletionResource {

    private final Generations generations;
    private final ObjectMapper json;

    CompletionResource(Generations generations, ObjectMapper json) {
        this.generations = generations;
        this.json = json;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    public Response complete(CompletionRequest request, @Context HttpServerResponse connection)
            throws InterruptedException {
        if (request == null) {
            throw new InvalidRequest(null, "the request body must be a JSON object");
        }
        RunningGeneration generation = generations.completion(request);
        Rendering r = new Rendering("cmpl-" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, request.model(), generation, request.logprobs() != null);
        if (Boolean.TRUE.equals(request.stream())) {
            boolean usage = request.streamOptions() != null && Boolean.TRUE.equals(request.streamOptions().includeUsage());
            return Response.ok(new EventStream(generation, json, r, usage, connection::closed), MediaType.SERVER_SENT_EVENTS)
                    .header("Cache-Control", "no-cache").build();
        }
        return Response.ok(r.whole(connection::closed), MediaType.APPLICATION_JSON).build();
    }

    /** One completion's chunks and whole response. */
    private static final class Rendering implements EventStream.Format {
        private final String id;
        private final long created;
        private final String model;
        private final RunningGeneration generation;
        private final boolean logprobs;
        /** Where the next streamed token's text starts, for its {@code text_offset}. */
        private int streamOffset;

        Rendering(String id, long created, String model, RunningGeneration generation, boolean logprobs) {
            this.id = id;
            this.created = created;
            this.model = model;
            this.generation = generation;
            this.logprobs = logprobs;
            this.streamOffset = generation.promptText().length();
        }

        private CompletionResponse chunk(String text, CompletionResponse.Logprobs lp, String finish, Usage usage) {
            List<CompletionResponse.Choice> choices = text == null ? List.of()
                    : List.of(new CompletionResponse.Choice(text, 0, lp, finish));
            return new CompletionResponse(id, "text_completion", created, model, generation.version().fingerprint(),
                    choices, usage);
        }

        @Override
        public Object first() {
            return null;
        }

        @Override
        public Object token(TokenOutput output) {
            if (output.logprob() != null && logprobs) {
                Logs logs = new Logs(streamOffset);
                logs.add(output);
                streamOffset = logs.offset;
                return chunk(output.text(), logs.value(), null, null);
            }
            return output.text().isEmpty() ? null : chunk(output.text(), null, null, null);
        }

        @Override
        public Object finish(RunningGeneration.Done done) {
            return chunk("", null, done.reason().openAi(), null);
        }

        @Override
        public Object usage(RunningGeneration.Done done) {
            return chunk(null, null, null, Usage.of(done.promptTokens(), done.completionTokens()));
        }

        CompletionResponse whole(java.util.function.BooleanSupplier clientGone) throws InterruptedException {
            StringBuilder text = new StringBuilder();
            Logs logs = new Logs(generation.promptText().length());
            try (generation) {
                while (true) {
                    switch (generation.next(EventStream.HEARTBEAT)) {
                        case null -> {
                            if (clientGone.getAsBoolean()) {
                                return null;
                            }
                        }
                        case RunningGeneration.Token t -> {
                            text.append(t.output().text());
                            logs.add(t.output());
                        }
                        case RunningGeneration.Done d -> {
                            return chunk(text.toString(), logprobs ? logs.value() : null, d.reason().openAi(),
                                    Usage.of(d.promptTokens(), d.completionTokens()));
                        }
                        case RunningGeneration.Failed f -> throw f.error();
                    }
                }
            }
        }
    }

    /** Accumulates the legacy logprobs lists; offsets count from the end of the prompt's text, as OpenAI's do. */
    private static final class Logs {
        final List<String> tokens = new ArrayList<>();
        final List<Double> values = new ArrayList<>();
        final List<Map<String, Double>> top = new ArrayList<>();
        final List<Integer> offsets = new ArrayList<>();
        int offset;

        Logs(int start) {
            offset = start;
        }

        void add(TokenOutput o) {
            if (o.logprob() == null) {
                return;
            }
            tokens.add(o.logprob().piece());
            values.add(o.logprob().value());
            top.add(o.logprob().top());
            offsets.add(offset);
            offset += o.logprob().piece().length();
        }

        CompletionResponse.Logprobs value() {
            return new CompletionResponse.Logprobs(tokens, values, top, offsets);
        }
    }
}
