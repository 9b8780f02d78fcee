package io.emend.core.graph;

/** Input checks shared by the families, so a bad id or an overlong sequence fails with a message, not a native crash. */
final class Sequences {

    private Sequences() {
    }

    /**
     * Checks ids against the vocabulary, the cache's batch size, and the context length.
     *
     * @return each row's first position (its real tokens already cached)
     */
    static int[] check(TokenBatch batch, KvCache cache, int vocab, int maxPositions) {
        if (cache != null && cache.batchSize() != batch.batchSize()) {
            throw new IllegalArgumentException("cache holds " + cache.batchSize() + " rows, batch has "
                    + batch.batchSize());
        }
        int[] start = new int[batch.batchSize()];
        for (int b = 0; b < batch.batchSize(); b++) {
            start[b] = cache == null ? 0 : cache.realTokens(b);
            int real = 0;
            for (int t = 0; t < batch.length(); t++) {
                int id = batch.id(b, t);
                if (batch.real(b, t) && (id < 0 || id >= vocab)) {
                    throw new IllegalArgumentException("token id " + id + " at row " + b + ", position " + t
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
                real += batch.real(b, t) ? 1 : 0;
            }
            if (start[b] + real > maxPositions) {
                throw new IllegalArgumentException("row " + b + " needs " + (start[b] + real)
                        + " positions, the model's context is " + maxPositions);
            }
        }
        return start;
    }
}
