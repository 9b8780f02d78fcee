package io.emend.serving.batch;

import io.emend.core.generate.Sampler;
import io.emend.core.generate.StopSequences;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.Sequence;
import io.emend.core.tokenizer.StreamingDecoder;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.serving.metrics.ServingMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Continuous batching over one loaded model: a single decode loop thread owns the decoder and, step after step,
 * advances every active sequence together (prompts in chunks, then one token each). Requests wait in a bounded queue
 * and join between steps as slots free up; they leave when they stop, reach their token limit, or are cancelled (a
 * client that went away), so one slow or departed client never holds up the others.
 */
public final class BatchScheduler implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BatchScheduler.class);
    private static final long IDLE_POLL_MS = 50;
    /** Prompt tokens the text decoder sees before the reply: enough context for one character of UTF-8. */
    private static final int PRIMING_TOKENS = 4;

    /**
     * @param maxBatch     sequences per step
     * @param queueSize    requests that may wait for a slot
     * @param prefillChunk prompt tokens one sequence feeds per step, so a long prompt does not stall the others' decoding
     */
    public record Limits(int maxBatch, int queueSize, int prefillChunk) {

        public Limits {
            if (maxBatch < 1 || queueSize < 1 || prefillChunk < 1) {
                throw new IllegalArgumentException("max batch, queue size and prefill chunk must be >= 1, got "
                        + maxBatch + ", " + queueSize + ", " + prefillChunk);
            }
        }
    }

    private final Decoder decoder;
    private final Tokenizer tokenizer;
    private final Limits limits;
    private final ServingMetrics metrics;
    private final BlockingQueue<Slot> waiting;
    private final Thread loop;
    private volatile boolean closing;
    private volatile int active;

    public BatchScheduler(String name, Decoder decoder, Tokenizer tokenizer, Limits limits, ServingMetrics metrics) {
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.limits = limits;
        this.metrics = metrics;
        this.waiting = new ArrayBlockingQueue<>(limits.queueSize());
        this.loop = Thread.ofPlatform().name("decode-" + name).daemon().unstarted(this::run);
        loop.start();
    }

    /**
     * Queues a generation; the listener hears from the decode loop thread.
     *
     * @throws QueueFull when the queue is full (or the scheduler is closing)
     */
    public GenerationHandle submit(GenerationRequest request, GenerationListener listener) {
        if (closing) {
            throw new QueueFull("the model is being unloaded; retry");
        }
        Slot slot = new Slot(request, listener);
        if (!waiting.offer(slot)) {
            metrics.rejected();
            throw new QueueFull("all " + limits.maxBatch() + " batch slots are busy and " + limits.queueSize()
                    + " requests are already waiting; retry later");
        }
        metrics.queued();
        return slot;
    }

    /** Sequences in the batch now. */
    public int active() {
        return active;
    }

    /** Requests waiting for a slot. */
    public int waiting() {
        return waiting.size();
    }

    private void run() {
        List<Slot> batch = new ArrayList<>();
        try {
            while (!(closing && batch.isEmpty() && waiting.isEmpty())) {
                if (batch.isEmpty()) {
                    Slot first = waiting.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    admit(first, batch);
                }
                Slot next;
                while (batch.size() < limits.maxBatch() && (next = waiting.poll()) != null) {
                    admit(next, batch);
                }
                batch.removeIf(Slot::cancelled);
                active = batch.size();
                if (!batch.isEmpty()) {
                    step(batch);
                    batch.removeIf(s -> s.done || s.cancelled);
                }
                active = batch.size();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            RuntimeException gone = new IllegalStateException("the model was unloaded");
            batch.forEach(s -> s.fail(gone));
            Slot s;
            while ((s = waiting.poll()) != null) {
                metrics.dequeued();
                s.fail(gone);
            }
        }
    }

    private void admit(Slot slot, List<Slot> batch) {
        metrics.dequeued();
        if (slot.cancelled) {
            return;
        }
        try {
            slot.sequence = decoder.newSequence(slot.request.adapter());
            batch.add(slot);
        } catch (RuntimeException e) {
            slot.fail(e);
        }
    }

    private void step(List<Slot> batch) {
        List<Decoder.Chunk> chunks = new ArrayList<>(batch.size());
        int prefilled = 0;
        for (Slot s : batch) {
            int[] prompt = s.request.prompt();
            if (s.fed < prompt.length) {
                int end = Math.min(prompt.length, s.fed + limits.prefillChunk());
                chunks.add(new Decoder.Chunk(s.sequence, Arrays.copyOfRange(prompt, s.fed, end), false));
                prefilled += end - s.fed;
            } else {
                chunks.add(Decoder.Chunk.next(s.sequence, s.last));
            }
        }
        List<float[][]> logits;
        try {
            logits = decoder.step(chunks);
        } catch (RuntimeException e) {
            LOG.errorf(e, "decode step over %d sequences failed", batch.size());
            batch.forEach(s -> s.fail(e));
            return;
        }
        int generated = 0;
        for (int i = 0; i < batch.size(); i++) {
            Slot s = batch.get(i);
            int fedNow = chunks.get(i).tokens().length;
            if (s.fed < s.request.prompt().length) {
                s.fed += fedNow;
                if (s.fed < s.request.prompt().length) {
                    continue;
                }
            }
            s.sample(logits.get(i)[0]);
            generated++;
        }
        metrics.step(batch.size(), prefilled, generated);
    }

    /**
     * Stops taking requests and lets the loop finish those it has (a swapped-out version drains this way), then ends
     * the thread. The decoder is the caller's to close.
     */
    @Override
    public void close() {
        closing = true;
        try {
            loop.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One request's place in the queue and then in the batch; touched by the loop thread only, but for cancelling. */
    private final class Slot implements GenerationHandle {
        final GenerationRequest request;
        final GenerationListener listener;
        final Sampler sampler;
        final StreamingDecoder text;
        final StopSequences stops;
        final long arrived = System.nanoTime();
        final int context = decoder.config().maxPositions();
        /** Generated token ids so far (logprobs need them as context). */
        final List<Integer> history = new ArrayList<>();
        Sequence sequence;
        int fed;
        int last;
        int generated;
        boolean done;
        volatile boolean cancelled;

        Slot(GenerationRequest request, GenerationListener listener) {
            this.request = request;
            this.listener = listener;
            this.sampler = new Sampler(request.sampling());
            this.text = tokenizer.streamingDecoder();
            // The prompt's last tokens prime the decoder, so the reply's first token renders as it continues the
            // prompt (a SentencePiece "▁park" after "the" is " park"; decoded alone, its space would be stripped).
            int[] prompt = request.prompt();
            for (int i = Math.max(0, prompt.length - PRIMING_TOKENS); i < prompt.length; i++) {
                text.accept(prompt[i]);
            }
            this.stops = new StopSequences(request.sampling().stop());
        }

        @Override
        public void cancel() {
            cancelled = true;
            if (waiting.remove(this)) {
                metrics.dequeued();
            }
        }

        boolean cancelled() {
            return cancelled;
        }

        void sample(float[] logits) {
            int token = sampler.next(logits);
            if (generated == 0) {
                metrics.firstToken(Duration.ofNanos(System.nanoTime() - arrived));
            }
            if (token == tokenizer.eosId() || request.endTokens().contains(token)) {
                finish(FinishReason.STOP);
                return;
            }
            TokenOutput.TokenLogprob logprob = request.logprobs() >= 0 ? logprob(logits, token) : null;
            generated++;
            last = token;
            String piece = text.accept(token);
            emit(new TokenOutput(token, stops.offer(piece), logprob));
            if (stops.stopped()) {
                finish(FinishReason.STOP);
            } else if (generated >= request.sampling().maxTokens()
                    || request.prompt().length + generated >= context) {
                finish(FinishReason.LENGTH);
            }
        }

        /** Log-softmax of the raw logits at the chosen token and at the most likely ones, in double. */
        private TokenOutput.TokenLogprob logprob(float[] logits, int token) {
            double max = Double.NEGATIVE_INFINITY;
            for (float v : logits) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : logits) {
                sum += Math.exp(v - max);
            }
            double logZ = max + Math.log(sum);
            Map<String, Double> top = new LinkedHashMap<>();
            for (int id : topIds(logits, request.logprobs())) {
                top.merge(pieceOf(id), logits[id] - logZ, Math::max);
            }
            return new TokenOutput.TokenLogprob(pieceOf(token), logits[token] - logZ, top);
        }

        /**
         * A token's text where it stands: decoded after the (up to four) tokens before it, minus their text; a
         * SentencePiece token's leading space or a byte-level symbol only means something in context. Called
         * before the token joins {@link #history}.
         */
        private String pieceOf(int id) {
            int[] prompt = request.prompt();
            int position = prompt.length + history.size();
            int before = Math.min(4, position);
            int[] context = new int[before + 1];
            for (int i = 0; i < before; i++) {
                int at = position - before + i;
                context[i] = at < prompt.length ? prompt[at] : history.get(at - prompt.length);
            }
            context[before] = id;
            String head = tokenizer.decode(Arrays.copyOf(context, before));
            String all = tokenizer.decode(context);
            return all.startsWith(head) ? all.substring(head.length()) : all;
        }

        private void finish(FinishReason reason) {
            String tail = stops.stopped() ? "" : stops.offer(text.finish()) + stops.flush();
            if (!tail.isEmpty()) {
                emit(new TokenOutput(-1, tail, null));
            }
            done = true;
            try {
                listener.finished(reason, request.prompt().length, generated);
            } catch (RuntimeException e) {
                LOG.warn("a generation listener failed", e);
            }
        }

        private void emit(TokenOutput output) {
            if (output.token() >= 0) {
                history.add(output.token());
            }
            try {
                listener.token(output);
            } catch (RuntimeException e) {
                LOG.warn("a generation listener failed; cancelling its request", e);
                cancelled = true;
            }
        }

        void fail(RuntimeException e) {
            done = true;
            try {
                listener.failed(e);
            } catch (RuntimeException ignored) {
                LOG.warn("a generation listener failed while being told of an error", ignored);
            }
        }

        /** The {@code n} largest logits' ids, largest first (lower id first on ties). */
        private static int[] topIds(float[] logits, int n) {
            int[] best = new int[Math.min(n, logits.length)];
            int filled = 0;
            for (int id = 0; id < logits.length; id++) {
                int at = filled;
                while (at > 0 && logits[best[at - 1]] < logits[id]) {
                    at--;
                }
                if (at < best.length) {
                    int end = Math.min(filled, best.length - 1);
                    System.arraycopy(best, at, best, at + 1, end - at);
                    best[at] = id;
                    filled = Math.min(filled + 1, best.length);
                }
            }
            return best;
        }
    }
}
