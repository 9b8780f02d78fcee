package io.emend.core.merge;

import java.util.Map;
import java.util.NoSuchElementException;

/** Parameter values resolved for one tensor (and, for per-model parameters, one input model). */
public record TensorParameters(Map<String, Double> values) {

    public TensorParameters {
        values = Map.copyOf(values);
    }

    public static TensorParameters of(Map<String, Double> values) {
        return new TensorParameters(values);
    }

    public double number(String name) {
        Double v = values.get(name);
        if (v == null) {
            throw new NoSuchElementException("parameter '" + name + "' was not resolved (resolved: " + values.keySet() + ")");
        }
        return v;
    }

    public boolean flag(String name) {
        return number(name) != 0;
    }
}
