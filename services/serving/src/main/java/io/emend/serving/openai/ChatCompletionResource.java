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
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** {@code POST /v1/chat/completions}: messages through the model's chat template, streamed as SSE or answered whole. */
@Path("/v1/chat/completions")
public class ChatCompletionResource {

    private final Generations generations;
    private final ObjectMapper json;

    ChatCompletionResource(Generations generations, ObjectMapper json) {
        this.generations = generations;
        this.json = json;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
    public Response complete(ChatCompletionRequest request, @Context HttpServerResponse connection)
            throws InterruptedException {
        if (request == null) {
            throw new InvalidRequest(null, "the request body must be a JSON object");
        }
        RunningGeneration generation = generations.chat(request);
        Rendering r = new Rendering("chatcmpl-" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, request.model(), generation, Boolean.TRUE.equals(request.logprobs()));
        if (Boolean.TRUE.equals(request.stream())) {
            boolean usage = request.streamOptions() != null && Boolean.TRUE.equals(request.streamOptions().includeUsage());
            return Response.ok(new EventStream(generation, json, r, usage, connection::closed), MediaType.SERVER_SENT_EVENTS)
                    .header("Cache-Control", "no-cache").build();
        }
        return Response.ok(r.whole(connection::closed), MediaType.APPLICATION_JSON).build();
    }

    private record Rendering(String id, long created, String model, RunningGeneration generation, boolean logprobs)
            implements EventStream.Format {

        private ChatCompletionChunk chunk(ChatCompletionChunk.Delta delta, String finish, Usage usage) {
            return chunk(delta, null, finish, usage);
        }

        private ChatCompletionChunk chunk(ChatCompletionChunk.Delta delta, ChatLogprobs logprobs, String finish,
                                          Usage usage) {
            List<ChatCompletionChunk.Choice> choices = delta == null ? List.of()
                    : List.of(new ChatCompletionChunk.Choice(0, delta, logprobs, finish));
            return new ChatCompletionChunk(id, "chat.completion.chunk", created, model,
                    generation.version().fingerprint(), choices, usage);
        }

        @Override
        public Object first() {
            return chunk(new ChatCompletionChunk.Delta("assistant", ""), null, null);
        }

        @Override
        public Object token(TokenOutput output) {
            // a token whose text is held back (half a character, a possible stop) still reports its logprob
            if (logprobs && output.logprob() != null) {
                return chunk(new ChatCompletionChunk.Delta(null, output.text()),
                        new ChatLogprobs(List.of(ChatLogprobs.of(output.logprob()))), null, null);
            }
            return output.text().isEmpty() ? null : chunk(new ChatCompletionChunk.Delta(null, output.text()), null, null);
        }

        @Override
        public Object finish(RunningGeneration.Done done) {
            return chunk(new ChatCompletionChunk.Delta(null, null), done.reason().openAi(), null);
        }

        @Override
        public Object usage(RunningGeneration.Done done) {
            return chunk(null, null, Usage.of(done.promptTokens(), done.completionTokens()));
        }

        ChatCompletionResponse whole(java.util.function.BooleanSupplier clientGone) throws InterruptedException {
            StringBuilder text = new StringBuilder();
            List<ChatLogprobs.Content> logs = new java.util.ArrayList<>();
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
                            if (logprobs && t.output().logprob() != null) {
                                logs.add(ChatLogprobs.of(t.output().logprob()));
                            }
                        }
                        case RunningGeneration.Done d -> {
                            return new ChatCompletionResponse(id, "chat.completion", created, model,
                                    generation.version().fingerprint(),
                                    List.of(new ChatCompletionResponse.Choice(0,
                                            new ChatCompletionResponse.Message("assistant", text.toString(), null),
                                            logprobs ? new ChatLogprobs(logs) : null, d.reason().openAi())),
                                    Usage.of(d.promptTokens(), d.completionTokens()));
                        }
                        case RunningGeneration.Failed f -> throw f.error();
                    }
                }
            }
        }
    }
}
