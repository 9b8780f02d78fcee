package io.emend.editor.edit;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The thresholds an edit's result must meet before the requested alias moves to it. Each is optional; a missing one
 * is not checked. Fractions are in [0, 1], as the metrics are.
 *
 * @param minEfficacy           least share of edits whose new target beats the old one on the prompt
 * @param minParaphrase         least share that also wins on the rephrased prompt
 * @param minNeighborhood       least share of unrelated prompts that keep their answer
 * @param maxPerplexityIncrease largest relative held-out perplexity increase ({@code 0.02} = +2%)
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record EditGate(OptionalDouble minEfficacy, OptionalDouble minParaphrase, OptionalDouble minNeighborhood,
                       OptionalDouble maxPerplexityIncrease) {

    public EditGate {
        minEfficacy = minEfficacy == null ? OptionalDouble.empty() : minEfficacy;
        minParaphrase = minParaphrase == null ? OptionalDouble.empty() : minParaphrase;
        minNeighborhood = minNeighborhood == null ? OptionalDouble.empty() : minNeighborhood;
        maxPerplexityIncrease = maxPerplexityIncrease == null ? OptionalDouble.empty() : maxPerplexityIncrease;
    }

    /** Checks nothing. */
    public static EditGate open() {
        return new EditGate(OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(),
                OptionalDouble.empty());
    }

    /**
     * Why the measured scores keep the alias where it is; empty when they pass. A score the requests could not
     * measure (NaN: no request had a ground truth, rephrasing or neighbour) fails a threshold set on it, because an
     * unmeasured quality is not a met one.
     */
    public List<String> failures(EditScores scores) {
        List<String> failures = new ArrayList<>();
        below(failures, "efficacy", scores.efficacy(), minEfficacy);
        below(failures, "paraphrase", scores.paraphrase(), minParaphrase);
        below(failures, "neighborhood", scores.neighborhood(), minNeighborhood);
        if (maxPerplexityIncrease.isPresent()) {
            double change = scores.perplexityChange();
            if (Double.isNaN(change) || change > maxPerplexityIncrease.getAsDouble()) {
                failures.add(String.format(Locale.ROOT, "perplexity change %s is above the gate's %+.4f",
                        Double.isNaN(change) ? "was not measured and" : String.format(Locale.ROOT, "%+.4f", change),
                        maxPerplexityIncrease.getAsDouble()));
            }
        }
        return failures;
    }

    private static void below(List<String> failures, String name, double value, OptionalDouble min) {
        if (min.isEmpty()) {
            return;
        }
        if (Double.isNaN(value)) {
            failures.add(name + " was not measured (no request has the fields it needs), the gate asks for at least "
                    + String.format(Locale.ROOT, "%.4f", min.getAsDouble()));
        } else if (value < min.getAsDouble()) {
            failures.add(String.format(Locale.ROOT, "%s %.4f is below the gate's %.4f", name, value,
                    min.getAsDouble()));
        }
    }

    /** Whether any threshold is set. */
    public boolean checksAnything() {
        return minEfficacy.isPresent() || minParaphrase.isPresent() || minNeighborhood.isPresent()
                || maxPerplexityIncrease.isPresent();
    }

    static Optional<String> rangeError(String field, OptionalDouble value, boolean fraction) {
        if (value.isEmpty()) {
            return Optional.empty();
        }
        double v = value.getAsDouble();
        if (!Double.isFinite(v) || (fraction && (v < 0 || v > 1))) {
            return Optional.of(field + " must be " + (fraction ? "a fraction between 0 and 1" : "a finite number")
                    + ", got " + v);
        }
        return Optional.empty();
    }
}
