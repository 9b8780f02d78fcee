package io.emend.bench.edit;

import io.emend.core.eval.CounterFactScores;
import io.emend.core.eval.EditEvaluation;

import java.io.PrintStream;
import java.util.List;

/**
 * One (method, edit count) run of an editing benchmark, printed as a row of the table both editing benchmarks share.
 * Cells are "after (before)"; efficacy and paraphrase are P(new) &gt; P(old) on the prompt and its paraphrase,
 * neighborhood is P(old answer) &gt; P(new) on an unrelated prompt, magnitude is the mean probability margin
 * P(new) − P(old) on the prompt, fluency the weighted bi/tri-gram entropy of greedy generations (bits).
 *
 * @param method     the method's name as printed
 * @param layers     the layers edited
 * @param lambda     MEMIT's covariance weight, NaN for methods without one
 * @param edits      requests edited
 * @param evaluation the scores
 * @param seconds    wall time of the edit itself (not the evaluation)
 * @param load       the 1/5/15-minute load averages right after the edit
 */
record EditRun(String method, List<Integer> layers, double lambda, int edits, EditEvaluation evaluation,
               double seconds, String load) {

    static void header(PrintStream out) {
        out.println("| method | layers | λ | edits | efficacy | paraphrase | neighborhood | magnitude | perplexity change "
                + "| fluency | edit s | edits/s | load |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    }

    void print(PrintStream out) {
        CounterFactScores.Summary s = evaluation.scores().summary();
        out.printf("| %s | %s | %s | %d | %.3f (%.3f) | %.3f (%.3f) | %.3f (%.3f) | %+.3f | %+.2f%% | %.2f (%.2f) "
                        + "| %.1f | %.2f | %s |%n",
                method, layers, Double.isNaN(lambda) ? "–" : String.format("%.1f", lambda), edits, s.efficacy(),
                s.efficacyBefore(), s.paraphrase(), s.paraphraseBefore(), s.neighborhood(), s.neighborhoodBefore(),
                s.efficacyMagnitude(), 100 * evaluation.perplexityChange(), evaluation.fluencyAfter().entropy(),
                evaluation.fluencyBefore().entropy(), seconds, edits / seconds, load);
    }
}
