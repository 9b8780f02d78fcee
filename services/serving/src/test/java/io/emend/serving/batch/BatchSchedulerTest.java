package io.emend.serving.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.emend.core.generate.Sampler;
import io.emend.core.generate.SamplingParams;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.serving.Fixtures;
import io.emend.serving.metrics.ServingMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The decode loop on its own (no HTTP), over the real engine on stories260k in F32: requests join a running batch
 * between steps, long prompts are fed in chunks while others keep decoding, and a cancelled request's slot goes to
 * the next one. Each generation is also checked against the engine's own greedy tokens, so batching changes nothing.
 */
class BatchSchedulerTest {

    static Decoder decoder;
    static Tokenizer tokenizer;

    SimpleMeterRegistry registry;
    BatchScheduler scheduler;

    @BeforeAll
    static void load() throws IOException {
        decoder = Decoder.load(Fixtures.stories(), Optional.empty(), QuantRule.parse("f32"), 1);
        tokenizer = Tokenizer.load(Fixtures.stories());
    }

    @AfterAll
    static void unload() {
        decoder.close();
        tokenizer.close();
    }

    @AfterEach
    void stop() {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    private BatchScheduler start(int maxBatch, int queueSize, int prefillChunk) {
        registry = new SimpleMeterRegistry();
        scheduler = new BatchScheduler("test", decoder, tokenizer, new BatchScheduler.Limits(maxBatch, queueSize,
                prefillChunk), new ServingMetrics(registry));
        return scheduler;
    }

    /** What one generation heard from the loop. */
    static class Recorder implements GenerationListener {
        final List<Integer> tokens = java.util.Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<FinishReason> finished = new CompletableFuture<>();

        @Override
        public void token(TokenOutput output) {
            if (output.token() >= 0) {
                tokens.add(output.token());
            }
        }

        @Override
        public void finished(FinishReason reason, int promptTokens, int completionTokens) {
            finished.complete(reason);
        }

        @Override
        public void failed(RuntimeException error) {
            finished.completeExceptionally(error);
        }

        FinishReason await() throws Exception {
            return finished.get(120, TimeUnit.SECONDS);
        }
    }

    static GenerationRequest greedy(int[] prompt, int maxTokens) {
        return new GenerationRequest(prompt, SamplingParams.greedy(maxTokens), null, -1, Set.of());
    }

    /** The engine alone: whole prompt in one step, then argmax until EOS or {@code max}. */
    static List<Integer> reference(int[] prompt, int max) {
        Sequence s = decoder.newSequence();
        float[] logits = decoder.prefill(s, prompt, prompt.length);
        List<Integer> out = new ArrayList<>();
        while (out.size() < max) {
            int next = Sampler.argmax(logits);
            if (next == tokenizer.eosId()) {
                break;
            }
            out.add(next);
            logits = decoder.step(List.of(Decoder.Chunk.next(s, next))).getFirst()[0];
        }
        return out;
    }

    static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(1);
        }
    }

    private double steps() {
        return registry.find("emend.serving.batch.size").summary().count();
    }

    private double largestBatch() {
        return registry.find("emend.serving.batch.size").summary().max();
    }

    @Test
    void aRequestJoinsARunningBatchBetweenSteps() throws Exception {
        start(4, 4, 64);
        int[] a = tokenizer.encode("Once upon a time, there was a little girl named Lily", true);
        int[] b = tokenizer.encode("The dog ran", true);
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        scheduler.submit(greedy(a, 60), ra);
        waitFor(() -> ra.tokens.size() >= 3, "the first request to be decoding");
        scheduler.submit(greedy(b, 10), rb);
        rb.await();
        assertFalse(ra.finished.isDone(), "the second request ran while the first was still generating");
        ra.await();
        waitFor(() -> scheduler.active() == 0, "the last step to complete");
        assertEquals(2.0, largestBatch(), "the two sequences shared steps");
        assertEquals(reference(a, 60), ra.tokens);
        assertEquals(reference(b, 10), rb.tokens);
    }

    @Test
    void longPromptsArePrefilledInChunksWhileOthersDecode() throws Exception {
        start(4, 4, 5);
        int[] prompt = tokenizer.encode("Lily and Ben went to the park. They saw a big red ball and a small dog", true);
        assertTrue(prompt.length > 15, "a prompt of several chunks: " + prompt.length);
        Recorder alone = new Recorder();
        scheduler.submit(greedy(prompt, 4), alone);
        assertEquals(FinishReason.LENGTH, alone.await());
        // the listener hears of the end inside the last step; the step is counted once it returns
        waitFor(() -> scheduler.active() == 0, "the step to complete");
        int chunks = (prompt.length + 4) / 5;
        // one step per chunk of 5 (the last also samples the first token), then one per further token
        assertEquals(chunks + 3, steps());
        assertEquals(prompt.length, registry.find("emend.serving.tokens").tag("kind", "prompt").counter().count());
        assertEquals(reference(prompt, 4), alone.tokens, "chunked prefill gives the same tokens as one whole prefill");

        // Now beside a decoding sequence: it gets a token in every step of the other's prefill.
        Recorder running = new Recorder();
        int[] first = tokenizer.encode("Once upon a time", true);
        scheduler.submit(greedy(first, 40), running);
        waitFor(() -> running.tokens.size() >= 2, "the first request to be decoding");
        int before = running.tokens.size();
        int[] atFirstToken = {-1};
        Recorder joining = new Recorder() {
            @Override
            public void token(TokenOutput output) {
                if (tokens.isEmpty()) {
                    atFirstToken[0] = running.tokens.size();
                }
                super.token(output);
            }
        };
        scheduler.submit(greedy(prompt, 3), joining);
        joining.await();
        running.await();
        assertTrue(atFirstToken[0] - before >= chunks - 1, "the running sequence advanced " + (atFirstToken[0] - before)
                + " tokens during the other's " + chunks + " prefill steps");
        assertEquals(reference(first, 40), running.tokens);
        assertEquals(reference(prompt, 3), joining.tokens);
    }

    @Test
    void cancellingFreesTheSlotForTheNextRequest() throws Exception {
        start(1, 2, 64);
        int[] prompt = tokenizer.encode("Once upon a time", true);
        // The first client holds the loop at its third token until the test has queued, checked and cancelled, so
        // what happens does not depend on how fast the machine decodes.
        CountDownLatch release = new CountDownLatch(1);
        Recorder first = new Recorder() {
            @Override
            public void token(TokenOutput output) {
                super.token(output);
                if (tokens.size() == 3) {
                    try {
                        release.await(120, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        GenerationHandle firstHandle = scheduler.submit(greedy(prompt, 400), first);
        waitFor(() -> first.tokens.size() >= 3, "the first request to be decoding");

        Recorder waiting = new Recorder();
        GenerationHandle waitingHandle = scheduler.submit(greedy(prompt, 5), waiting);
        Recorder next = new Recorder();
        scheduler.submit(greedy(tokenizer.encode("The cat", true), 5), next);
        assertEquals(2, scheduler.waiting(), "one slot: the others wait");
        assertThrows(QueueFull.class, () -> scheduler.submit(greedy(prompt, 5), new Recorder()));
        assertEquals(1.0, registry.find("emend.serving.rejected").counter().count());

        waitingHandle.cancel(); // a client that left while queued: out of the queue at once
        assertEquals(1, scheduler.waiting());
        firstHandle.cancel(); // a client that left mid-generation: its slot goes to the next request
        release.countDown();
        assertEquals(FinishReason.LENGTH, next.await());
        assertEquals(reference(tokenizer.encode("The cat", true), 5), next.tokens);
        waitFor(() -> scheduler.active() == 0 && scheduler.waiting() == 0, "the scheduler to be idle");
        assertEquals(3, first.tokens.size(), "no tokens after cancelling");
        assertFalse(first.finished.isDone(), "a cancelled generation is not reported as finished");
        assertTrue(waiting.tokens.isEmpty() && !waiting.finished.isDone(), "a cancelled queued request never runs");
    }
}
