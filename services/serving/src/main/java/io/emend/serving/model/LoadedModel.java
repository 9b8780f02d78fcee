package io.emend.serving.model;

import io.emend.core.infer.Adapter;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.serving.batch.BatchScheduler;
import io.emend.serving.metrics.ServingMetrics;
import java.io.IOException;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * One version in memory: its quantized decoder, tokenizer, chat template and the decode loop that batches its
 * requests. It is closed once nothing serves it any more (no reference points at it, see {@link #hold}) and no
 * request is still running on it (see {@link #lease}), so a swapped-out version finishes what it started.
 */
public final class LoadedModel {

    private static final Logger LOG = Logger.getLogger(LoadedModel.class);

    private final ModelVersion version;
    private final Decoder decoder;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final BatchScheduler scheduler;
    private final Instant loadedAt = Instant.now();
    private int holders;
    private int leases;
    private boolean closed;

    private LoadedModel(ModelVersion version, Decoder decoder, Tokenizer tokenizer, ChatTemplate chatTemplate,
            BatchScheduler scheduler) {
        this.version = version;
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.scheduler = scheduler;
    }

    /** Loads the files into the engine and starts their decode loop. */
    public static LoadedModel load(ModelFiles files, QuantRule rule, int threads, BatchScheduler.Limits limits,
            ServingMetrics metrics) throws IOException {
        long start = System.nanoTime();
        Decoder decoder = Decoder.load(files.dir(), files.weightsFile(), rule, threads);
        try {
            // A GGUF file carries its BOS/EOS ids; its tokenizer.json lies beside it, usually with no config.json.
            Tokenizer tokenizer = files.gguf()
                    ? Tokenizer.load(files.dir(), decoder.config().bosTokenId(), decoder.config().eosTokenId())
                    : Tokenizer.load(files.dir());
            ChatTemplate template = ChatTemplate.of(files.dir());
            BatchScheduler scheduler = new BatchScheduler(files.version().fingerprint(), decoder, tokenizer, limits,
                    metrics);
            LOG.infof("loaded %s from %s as %s with %d threads in %d ms", files.version(),
                    files.weightsFile().map(files.dir()::resolve).orElse(files.dir()),
                    files.gguf() ? decoder.weights().rule() + " (as stored in the GGUF file)" : rule,
                    decoder.threads(), (System.nanoTime() - start) / 1_000_000);
            return new LoadedModel(files.version(), decoder, tokenizer, template, scheduler);
        } catch (IOException | RuntimeException e) {
            decoder.close();
            throw e;
        }
    }

    public ModelVersion version() {
        return version;
    }

    public Decoder decoder() {
        return decoder;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    public BatchScheduler scheduler() {
        return scheduler;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    /** The model's context: prompt plus generated tokens. */
    public int contextLength() {
        return decoder.config().maxPositions();
    }

    /** A served reference now points at this model. */
    synchronized boolean hold() {
        if (closed) {
            return false;
        }
        holders++;
        return true;
    }

    /** A served reference moved away from this model; closes it when nothing else needs it. */
    void release() {
        synchronized (this) {
            holders--;
            if (holders > 0 || leases > 0 || closed) {
                return;
            }
            closed = true;
        }
        unloadInBackground();
    }

    /**
     * Claims the model for one request; empty when it was closed in the meantime (the caller looks up the
     * reference again and finds its successor).
     */
    synchronized java.util.Optional<Lease> lease() {
        return lease(version, null);
    }

    /**
     * As {@link #lease()}, for a request served as {@code served}: this model's own version, or an edit version
     * whose factors {@code delta} this model runs for every request of the lease.
     */
    synchronized java.util.Optional<Lease> lease(ModelVersion served, Adapter delta) {
        if (closed) {
            return java.util.Optional.empty();
        }
        leases++;
        return java.util.Optional.of(new Lease(this, served, delta));
    }

    private void returnLease() {
        synchronized (this) {
            leases--;
            if (holders > 0 || leases > 0 || closed) {
                return;
            }
            closed = true;
        }
        unloadInBackground();
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * The last lease may be returned on the decode loop thread itself (a generation ending), and unloading waits for
     * that thread to finish, so it happens on a thread of its own.
     */
    private void unloadInBackground() {
        Thread.ofVirtual().name("unload-" + version.fingerprint()).start(this::unload);
    }

    private void unload() {
        LOG.infof("unloading %s", version);
        scheduler.close();
        decoder.close();
        tokenizer.close();
    }

    /** A request's claim on a model; closing it lets a retired model go. */
    public static final class Lease implements AutoCloseable {
        private final LoadedModel model;
        private final ModelVersion version;
        private final Adapter delta;
        private boolean returned;

        private Lease(LoadedModel model, ModelVersion version, Adapter delta) {
            this.model = model;
            this.version = version;
            this.delta = delta;
        }

        public LoadedModel model() {
            return model;
        }

        /** The version that answers: the model's own, or the edit version it serves as factors. */
        public ModelVersion version() {
            return version;
        }

        /** The factors every request of this lease runs with (an edit version served over its base), if any. */
        public java.util.Optional<Adapter> delta() {
            return java.util.Optional.ofNullable(delta);
        }

        @Override
        public synchronized void close() {
            if (!returned) {
                returned = true;
                model.returnLease();
            }
        }
    }
}
