package io.emend.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.train.forgetting.HalfFineTuning;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Full fine-tuning: one dense delta {@code D} per parameter tensor (zeros at the start, so step 0 is the base), added
 * to the stored weight by the forward. Keeping the change as a delta leaves the model's own arrays untouched (the
 * parent stays available for L2-SP and for evaluation) and costs one extra matmul per projection, acceptable for the
 * small models full fine-tuning is meant for. With HFT, a seeded half of the tensors gets no delta.
 */
public final class FullParameters implements TrainableParameters {

    private final NDManager manager = NDManager.newBaseManager();
    private final Map<String, NDArray> deltas = new LinkedHashMap<>();

    FullParameters(Transformer model, FineTuneConfig config) {
        List<String> names = model.parameterNames();
        boolean[] frozen = HalfFineTuning.frozen(names.size(), config.forgetting().halfFineTuning(), config.seed());
        for (int i = 0; i < names.size(); i++) {
            if (frozen[i]) {
                continue;
            }
            NDArray d = manager.zeros(model.parameter(names.get(i)).getShape(), DataType.FLOAT32);
            d.setRequiresGradient(true);
            deltas.put(names.get(i), d);
        }
    }

    @Override
    public Map<String, NDArray> arrays() {
        return deltas;
    }

    @Override
    public Map<String, List<WeightDelta>> deltas(NDManager step) {
        Map<String, List<WeightDelta>> out = new LinkedHashMap<>();
        deltas.forEach((k, d) -> out.put(k, List.of(new WeightDelta.Dense(d))));
        return out;
    }

    @Override
    public NDArray squaredDistanceFromParent(NDManager step) {
        NDArray sum = step.zeros(new ai.djl.ndarray.types.Shape());
        for (NDArray d : deltas.values()) {
            sum = sum.add(TrainableParameters.inScope(step, d).square().sum());
        }
        return sum;
    }

    @Override
    public NDArray overlapWithPrior(NDManager step) {
        return step.zeros(new ai.djl.ndarray.types.Shape());
    }

    @Override
    public void close() {
        manager.close();
    }
}
