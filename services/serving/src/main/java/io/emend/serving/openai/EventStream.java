package io.emend.serving.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.serving.problem.ProblemMapper;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * Writes a running generation as OpenAI's server-sent events: one {@code data: {json}} event per chunk, then
 * {@code data: [DONE]}. A write that fails means the client went away; closing the generation then frees its batch
 * slot before the next decode step. The connection's state is checked before every write, since a write to a closed
 * connection is dropped without an error; while a request waits in the queue, a comment line goes out every second.
 */
final class EventStream implements StreamingOutput {

    private static final Logger LOG = Logger.getLogger(EventStream.class);
    /** How often a request thread with nothing to send checks that its client is still there. */
    static final Duration HEARTBEAT = Duration.ofSeconds(1);
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE = ": waiting\n\n".getBytes(StandardCharsets.US_ASCII);

    /** How one endpoint renders the events as chunks; a null chunk is not sent. */
    interface Format {
        Object first();

        Object token(io.emend.serving.batch.TokenOutput output);

        Object finish(RunningGeneration.Done done);

        /** The usage-only chunk {@code stream_options.include_usage} asks for. */
        Object usage(RunningGeneration.Done done);
    }

    private final RunningGeneration generation;
    private final ObjectMapper json;
    private final Format format;
    private final boolean includeUsage;
    private final BooleanSupplier clientGone;

    /** @param clientGone whether the client's connection has closed (writes to it would vanish without an error) */
    EventStream(RunningGeneration generation, ObjectMapper json, Format format, boolean includeUsage,
            BooleanSupplier clientGone) {
        this.clientGone = clientGone;
        this.generation = generation;
        this.json = json;
        this.format = format;
        this.includeUsage = includeUsage;
    }

    @Override
    public void write(OutputStream out) {
        try (generation) {
            send(out, format.first());
            while (true) {
                if (clientGone.getAsBoolean()) {
                    LOG.debug("client left a stream; freeing its slot");
                    return;
                }
                RunningGeneration.Event event = generation.next(HEARTBEAT);
                switch (event) {
                    case null -> {
                        out.write(KEEP_ALIVE);
                        out.flush();
                    }
                    case RunningGeneration.Token t -> send(out, format.token(t.output()));
                    case RunningGeneration.Done d -> {
                        send(out, format.finish(d));
                        if (includeUsage) {
                            send(out, format.usage(d));
                        }
                        out.write(DONE);
                        out.flush();
                        return;
                    }
                    case RunningGeneration.Failed f -> {
                        send(out, ProblemMapper.streamError(f.error()));
                        return;
                    }
                }
            }
        } catch (IOException e) {
            LOG.debugf("client left a stream: %s", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(OutputStream out, Object chunk) throws IOException {
        if (chunk == null) {
            return;
        }
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(json.writeValueAsBytes(chunk));
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
