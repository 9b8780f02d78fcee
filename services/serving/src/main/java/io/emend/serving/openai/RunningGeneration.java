package io.emend.serving.openai;

import io.emend.serving.batch.FinishReason;
import io.emend.serving.batch.GenerationHandle;
import io.emend.serving.batch.GenerationListener;
import io.emend.serving.batch.TokenOutput;
import io.emend.serving.model.LoadedModel;
import io.emend.serving.model.ModelVersion;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One request's generation as its HTTP thread sees it: the decode loop pushes events into a queue and never waits;
 * the request thread takes them at its own pace. The model lease is returned as soon as the generation ends or the
 * client goes away, whichever is first, so a swapped-out version can be unloaded.
 */
public final class RunningGeneration implements GenerationListener, AutoCloseable {

    /** What the decode loop reported. */
    public sealed interface Event {
    }

    public record Token(TokenOutput output) implements Event {
    }

    public record Done(FinishReason reason, int promptTokens, int completionTokens) implements Event {
    }

    public record Failed(RuntimeException error) implements Event {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final LoadedModel.Lease lease;
    private final int promptTokens;
    private final String promptText;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile GenerationHandle handle;

    RunningGeneration(LoadedModel.Lease lease, int promptTokens, String promptText) {
        this.lease = lease;
        this.promptTokens = promptTokens;
        this.promptText = promptText;
    }

    void started(GenerationHandle handle) {
        this.handle = handle;
    }

    public ModelVersion version() {
        return lease.version();
    }

    public int promptTokens() {
        return promptTokens;
    }

    /** The prompt as text (for logprobs' text offsets), or empty when it was given as token ids. */
    public String promptText() {
        return promptText;
    }

    /** The next event, or null when none came within {@code timeout}. */
    public Event next(Duration timeout) throws InterruptedException {
        return events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void token(TokenOutput output) {
        events.add(new Token(output));
    }

    @Override
    public void finished(FinishReason reason, int prompt, int completion) {
        events.add(new Done(reason, prompt, completion));
        end();
    }

    @Override
    public void failed(RuntimeException error) {
        events.add(new Failed(error));
        end();
    }

    /** The client is gone or done: frees the batch slot (if still running) and the model. */
    @Override
    public void close() {
        GenerationHandle h = handle;
        if (h != null && !ended.get()) {
            h.cancel();
        }
        end();
    }

    private void end() {
        if (ended.compareAndSet(false, true)) {
            lease.close();
        }
    }
}
