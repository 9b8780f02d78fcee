package io.emend.trainer.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Counts negative flips: probes whose greedy answer the parent got right and the child gets wrong.
 *
 * <p>"Greedy answer right" is checked by teacher forcing: one forward over prompt + answer (without its last token),
 * and at every answer position the most likely next token must be the answer's token. Greedy decoding produces the
 * answer exactly when that holds at every position (each greedy step sees the same prefix the forced pass does), so
 * this equals decoding {@code answer.length} tokens greedily, with one forward instead of one per token.
 */
public final class NegativeFlips {

    private NegativeFlips() {
    }

    /**
     * @param parent the deltas that make the parent (the frozen adapters of its lineage; empty for a plain model)
     * @param child  the parent's deltas plus the trained ones, created in the manager it is given
     */
    public static Count count(Transformer model, NDManager scope, List<Probe> probes,
                              Function<NDManager, Map<String, List<WeightDelta>>> parent,
                              Function<NDManager, Map<String, List<WeightDelta>>> child) {
        int parentRight = 0;
        int flips = 0;
        for (Probe probe : probes) {
            boolean before = answers(model, scope, probe, parent);
            if (before) {
                parentRight++;
                if (!answers(model, scope, probe, child)) {
                    flips++;
                }
            }
        }
        return new Count(probes.size(), parentRight, flips);
    }

    /** Whether greedy decoding after the prompt yields the probe's answer. */
    static boolean answers(Transformer model, NDManager scope, Probe probe,
                           Function<NDManager, Map<String, List<WeightDelta>>> deltas) {
        int[] ids = new int[probe.prompt().length + probe.answer().length - 1];
        System.arraycopy(probe.prompt(), 0, ids, 0, probe.prompt().length);
        System.arraycopy(probe.answer(), 0, ids, probe.prompt().length, probe.answer().length - 1);
        try (NDManager s = scope.newSubManager()) {
            ForwardOptions options = ForwardOptions.defaults().withDeltas(deltas.apply(s));
            NDArray logits = model.forward(s, TokenBatch.of(ids), options).logits(); // [1, T, V]
            long[] best = logits.argMax(2).toLongArray(); // [T]
            for (int i = 0; i < probe.answer().length; i++) {
                int position = probe.prompt().length - 1 + i;
                if (best[position] != probe.answer()[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * @param probes        probes in the set
     * @param parentCorrect probes the parent answers right
     * @param flips         of those, probes the child gets wrong
     */
    public record Count(int probes, int parentCorrect, int flips) {
    }
}
