package io.emend.core.generate;

import ai.djl.ndarray.NDManager;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.KvCache;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.StreamingDecoder;
import io.emend.core.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Autoregressive generation on the graph: one forward over the prompt fills a KV cache, then one single-token forward
 * per new token. Each step runs in its own sub-manager, so native memory stays at the cache plus one step.
 */
public final class Generator {

    private final Transformer model;
    private final Tokenizer tokenizer;

    public Generator(Transformer model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Generates from text, encoded with the model's BOS in front. */
    public Generation generate(String prompt, SamplingParams params, TokenSink sink) {
        return generate(tokenizer.encode(prompt, true), params, ForwardOptions.defaults(), sink);
    }

    /**
     * Generates from token ids.
     *
     * @param options deltas to apply (an adapter, an edit); its cache and logits scope are replaced
     * @throws IllegalArgumentException for an empty prompt or one longer than the model's context
     */
    public Generation generate(int[] prompt, SamplingParams params, ForwardOptions options, TokenSink sink) {
        int context = model.config().maxPositions();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt has no tokens");
        }
        if (prompt.length > context) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, the model's context is "
                    + context);
        }
        Sampler sampler = new Sampler(params);
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        StopSequences stops = new StopSequences(params.stop());
        int eos = tokenizer.eosId();
        int[] tokens = new int[params.maxTokens()];
        int count = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        try (NDManager scope = NDManager.newBaseManager(); KvCache cache = model.newCache(scope, 1)) {
            ForwardOptions step = options.withCache(cache).withLogits(LogitsScope.LAST);
            float[] logits = lastLogits(scope, TokenBatch.of(prompt), step);
            while (true) {
                int next = sampler.next(logits);
                if (next == eos) {
                    reason = StopReason.EOS;
                    break;
                }
                tokens[count++] = next;
                sink.accept(next, stops.offer(decoder.accept(next)));
                if (stops.stopped()) {
                    reason = StopReason.STOP_SEQUENCE;
                    break;
                }
                if (count == params.maxTokens()) {
                    break;
                }
                if (prompt.length + count >= context) {
                    reason = StopReason.CONTEXT;
                    break;
                }
                logits = lastLogits(scope, TokenBatch.of(next), step);
            }
        }
        String tail = stops.offer(decoder.finish());
        tail += stops.flush();
        if (!tail.isEmpty()) {
            sink.accept(-1, tail);
        }
        return new Generation(Arrays.copyOf(tokens, count), stops.text(), reason);
    }

    private float[] lastLogits(NDManager scope, TokenBatch batch, ForwardOptions options) {
        try (NDManager step = scope.newSubManager()) {
            return model.forward(step, batch, options).logits().toFloatArray();
        }
    }
}
