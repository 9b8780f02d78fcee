package io.emend.core.graph;

/**
 * One site in one layer.
 *
 * @param site  where in the block
 * @param layer 0-based block index
 */
public record Probe(Site site, int layer) {

    public Probe {
        if (site == null) {
            throw new IllegalArgumentException("probe site is required");
        }
        if (layer < 0) {
            throw new IllegalArgumentException("probe layer must be >= 0, got " + layer);
        }
    }

    /** The token embeddings entering block 0. */
    public static Probe embedding() {
        return new Probe(Site.EMBEDDING, 0);
    }

    public static Probe blockOutput(int layer) {
        return new Probe(Site.BLOCK_OUTPUT, layer);
    }

    public static Probe mlpDownInput(int layer) {
        return new Probe(Site.MLP_DOWN_INPUT, layer);
    }

    public static Probe mlpDownOutput(int layer) {
        return new Probe(Site.MLP_DOWN_OUTPUT, layer);
    }
}
