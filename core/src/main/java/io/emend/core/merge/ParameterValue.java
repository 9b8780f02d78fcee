package io.emend.core.merge;

import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A parameter's value as a recipe gives it, evaluated per tensor the way mergekit does:
 * a scalar; a gradient (a list of numbers spread evenly over the layers of a slice and linearly interpolated,
 * so {@code [0, 1]} goes from 0 at the first layer to 1 at the last); or a list of conditionals, the first whose
 * {@code filter} is a substring of the tensor name (or that has no filter) giving the value.
 */
public sealed interface ParameterValue {

    /**
     * The value for one tensor.
     *
     * @param tensorName the output tensor's name, matched against filters
     * @param t          position of the tensor's layer in its slice, 0 at the first layer and 1 at the last;
     *                   0 for tensors before the layers (embeddings) and 1 for those after (final norm, head)
     * @return empty when no conditional matches
     */
    OptionalDouble at(String tensorName, double t);

    /**
     * A string setting of the whole merge (a {@link Parameter.Kind#TEXT} such as AdaMerging's {@code text}). It has no
     * number, so it resolves to nothing for any tensor; its method reads it from the recipe.
     */
    record Text(String value) implements ParameterValue {
        @Override
        public OptionalDouble at(String tensorName, double t) {
            return OptionalDouble.empty();
        }
    }

    record Scalar(double value) implements ParameterValue {
        @Override
        public OptionalDouble at(String tensorName, double t) {
            return OptionalDouble.of(value);
        }
    }

    /** Values spread evenly over [0, 1]; {@code values[i]} sits at {@code i / (n - 1)}. */
    record Gradient(List<Double> values) implements ParameterValue {
        public Gradient {
            if (values.isEmpty()) {
                throw new IllegalArgumentException("a gradient needs at least one value");
            }
            values = List.copyOf(values);
        }

        @Override
        public OptionalDouble at(String tensorName, double t) {
            int n = values.size();
            if (n == 1) {
                return OptionalDouble.of(values.getFirst());
            }
            double scaled = Math.clamp(t, 0.0, 1.0) * (n - 1);
            int i0 = (int) Math.floor(scaled);
            int i1 = Math.min(n - 1, i0 + 1);
            double frac = scaled - i0;
            return OptionalDouble.of((1 - frac) * values.get(i0) + frac * values.get(i1));
        }
    }

    /** One entry of a conditional list: applies when {@code filter} is absent or occurs in the tensor name. */
    record Conditional(Optional<String> filter, ParameterValue value) {
    }

    record Filtered(List<Conditional> conditionals) implements ParameterValue {
        public Filtered {
            conditionals = List.copyOf(conditionals);
        }

        @Override
        public OptionalDouble at(String tensorName, double t) {
            for (Conditional c : conditionals) {
                if (c.filter().isEmpty() || tensorName.contains(c.filter().get())) {
                    return c.value().at(tensorName, t);
                }
            }
            return OptionalDouble.empty();
        }
    }
}
