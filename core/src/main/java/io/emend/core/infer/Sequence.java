package io.emend.core.infer;

/**
 * One stream of tokens being decoded: its KV cache, how many positions it holds, and the adapter (if any) its
 * forward applies. Sequences join and leave a batch freely between steps; one must not be in two steps at once.
 */
public final class Sequence {

    private final KvCache cache;
    private int length;
    private volatile Adapter adapter;

    Sequence(KvCache cache, Adapter adapter) {
        this.cache = cache;
        this.adapter = adapter;
    }

    /** Tokens already in the cache (the position of the next token). */
    public int length() {
        return length;
    }

    void advance(int tokens) {
        length += tokens;
    }

    KvCache cache() {
        return cache;
    }

    /** The adapter applied from the next step on, or null for the base model. */
    public Adapter adapter() {
        return adapter;
    }

    /**
     * Attaches (or with null detaches) an adapter for the following steps. Tokens already in the cache keep the
     * keys and values they were computed with, as with any prefix cache.
     */
    public void adapter(Adapter adapter) {
        this.adapter = adapter;
    }

    public long cacheBytes() {
        return cache.byteSize();
    }
}
