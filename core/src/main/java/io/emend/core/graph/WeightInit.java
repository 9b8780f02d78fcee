package io.emend.core.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.util.Arrays;

/** Where a model's parameter values come from: a checkpoint, or random values of the right shapes for benchmarks. */
sealed interface WeightInit {

    enum Kind { MATRIX, GAIN, BIAS }

    /**
     * @param stored    the name in the source
     * @param shape     the shape the source must have
     * @param transpose store the 2-D transpose of what the source holds
     */
    NDArray create(NDManager manager, String stored, long[] shape, Kind kind, boolean transpose);

    /**
     * Values from a checkpoint, widened to F32 (F16 and BF16 widen exactly). Shapes are checked against the config so
     * a mismatched file fails at load with the tensor's name rather than deep inside a matmul.
     */
    record FromSource(TensorSource source) implements WeightInit {
        @Override
        public NDArray create(NDManager manager, String stored, long[] shape, Kind kind, boolean transpose) {
            TensorInfo info = source.find(stored).orElseThrow(() ->
                    new IllegalArgumentException("checkpoint has no tensor " + stored));
            if (!Arrays.equals(info.shape(), shape)) {
                throw new IllegalArgumentException("tensor " + stored + " has shape " + Arrays.toString(info.shape())
                        + ", the config needs " + Arrays.toString(shape));
            }
            float[] values = source.floats(stored);
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("tensor " + stored + " contains NaN or infinite values");
                }
            }
            if (transpose) {
                int rows = (int) shape[0];
                int cols = (int) shape[1];
                float[] t = new float[values.length];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        t[c * rows + r] = values[r * cols + c];
                    }
                }
                return manager.create(t, new Shape(shape[1], shape[0]));
            }
            return manager.create(values, new Shape(shape));
        }
    }

    /**
     * Matrices drawn from N(0, std²) by PyTorch's generator (seeded by the caller), gains 1, biases 0; created natively so a 1.1B-parameter
     * model needs no heap copy.
     */
    record Random(double std) implements WeightInit {

        @Override
        public NDArray create(NDManager manager, String stored, long[] shape, Kind kind, boolean transpose) {
            Shape s = transpose ? new Shape(shape[1], shape[0]) : new Shape(shape);
            return switch (kind) {
                case MATRIX -> manager.randomNormal(0f, (float) std, s, DataType.FLOAT32);
                case GAIN -> manager.ones(s, DataType.FLOAT32);
                case BIAS -> manager.zeros(s, DataType.FLOAT32);
            };
        }
    }
}
