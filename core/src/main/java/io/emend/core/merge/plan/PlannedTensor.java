package io.emend.core.merge.plan;

import io.emend.core.merge.TensorParameters;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.util.List;
import java.util.Optional;

/**
 * One output tensor of a plan: where each input comes from and the parameter values for it.
 *
 * @param output          name, dtype and shape written
 * @param t               the tensor's position for gradients (0 at a slice's first layer, 1 at its last)
 * @param base            the base model's input, for methods that use one
 * @param models          the other inputs
 * @param modelParameters per-model values, one per entry of {@code models}
 * @param global          global values
 */
public record PlannedTensor(TensorInfo output, double t, Optional<Input> base, List<Input> models,
                            List<TensorParameters> modelParameters, TensorParameters global) {

    public PlannedTensor {
        models = List.copyOf(models);
        modelParameters = List.copyOf(modelParameters);
    }

    /** A tensor of an input model. */
    public record Input(String model, TensorSource source, TensorInfo tensor) {
    }

    /** Every input, base first. */
    public List<Input> inputs() {
        List<Input> all = new java.util.ArrayList<>();
        base.ifPresent(all::add);
        all.addAll(models);
        return all;
    }
}
