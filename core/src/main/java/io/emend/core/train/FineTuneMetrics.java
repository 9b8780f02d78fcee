package io.emend.core.train;

/**
 * A finished fine-tune's figures. Held-out losses are mean next-token NLL over the held-out rows' target tokens;
 * perplexity is its exponential. "Before" is the parent (base plus prior adapters), "after" the result.
 *
 * @param steps                optimizer steps done
 * @param trainLoss            mean training loss of the last step(s) (up to 10)
 * @param heldOutLossBefore    NaN without held-out data
 * @param heldOutLossAfter     NaN without held-out data
 * @param retentionLossBefore  held-out replay loss of the parent (NaN without replay)
 * @param retentionLossAfter   held-out replay loss of the result (NaN without replay)
 * @param tokensTrained        tokens read in training steps of this run
 * @param tokensPerSecond      training throughput of this run
 */
public record FineTuneMetrics(int steps, double trainLoss, double heldOutLossBefore, double heldOutLossAfter,
                              double retentionLossBefore, double retentionLossAfter, long tokensTrained,
                              double tokensPerSecond) {

    public double heldOutPerplexityBefore() {
        return Math.exp(heldOutLossBefore);
    }

    public double heldOutPerplexityAfter() {
        return Math.exp(heldOutLossAfter);
    }
}
