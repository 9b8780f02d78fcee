package io.emend.core.merge;

import java.util.List;
import java.util.Optional;

/**
 * Everything one method needs to merge one tensor: its inputs as chunked views, the parameter values resolved for
 * this tensor, and where to write. Methods walk the tensor in chunks of {@link #chunk} elements, so the heap they
 * use is a few chunks whatever the tensor's size.
 *
 * @param tensorName      the output tensor's name (messages, and the seed of random methods)
 * @param base            the base model's tensor, when the recipe names a base
 * @param models          the other inputs' tensors, in recipe order (the base is not among them)
 * @param modelParameters per-model parameter values, one per entry of {@code models}
 * @param global          global parameter values
 * @param seed            the recipe's random seed
 * @param out             the result
 * @param chunk           elements per chunk
 * @param offset          index in the whole tensor of the first element of these views: non-zero when an
 *                        executor merges disjoint ranges of one tensor apart ({@link MergeMethod#elementwise()}),
 *                        so that index-based draws (DARE) are the same whatever the split
 */
public record TensorMerge(String tensorName, Optional<TensorView> base, List<TensorView> models,
                          List<TensorParameters> modelParameters, TensorParameters global, long seed,
                          TensorSink out, int chunk, long offset) {

    /**
     * Elements per chunk by default: 32 KiB of F32 per input buffer, so that a method's buffers (a few float and
     * double chunks) stay in a core's L2 cache between the passes over them; 2^20 (4 MiB buffers) ran each pass at
     * memory speed.
     */
    public static final int DEFAULT_CHUNK = 1 << 13;

    public TensorMerge {
        models = List.copyOf(models);
        modelParameters = List.copyOf(modelParameters);
        if (models.size() != modelParameters.size()) {
            throw new IllegalArgumentException(models.size() + " models but " + modelParameters.size() + " parameter sets");
        }
        if (chunk <= 0) {
            throw new IllegalArgumentException("chunk must be positive, got " + chunk);
        }
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative, got " + offset);
        }
        long n = elements(base, models);
        for (TensorView v : models) {
            if (v.elements() != n) {
                throw new IllegalArgumentException("tensor '" + tensorName + "': inputs differ in size");
            }
        }
    }

    /** A whole tensor (offset 0). */
    public TensorMerge(String tensorName, Optional<TensorView> base, List<TensorView> models,
                       List<TensorParameters> modelParameters, TensorParameters global, long seed, TensorSink out,
                       int chunk) {
        this(tensorName, base, models, modelParameters, global, seed, out, chunk, 0);
    }

    private static long elements(Optional<TensorView> base, List<TensorView> models) {
        if (base.isPresent()) {
            return base.get().elements();
        }
        if (models.isEmpty()) {
            throw new IllegalArgumentException("a merge needs at least one input");
        }
        return models.getFirst().elements();
    }

    /** Elements of every input and of the output. */
    public long elements() {
        return elements(base, models);
    }

    /** The base, or a {@link MergeException} naming the method that needs one. */
    public TensorView requireBase(String method) {
        return base.orElseThrow(() -> new MergeException(method + " needs base_model"));
    }

    /** Length of the chunk starting at {@code from}. */
    public int chunkLength(long from) {
        return (int) Math.min(chunk, elements() - from);
    }

    /** A buffer of one chunk. */
    public float[] buffer() {
        return new float[(int) Math.min(chunk, Math.max(1, elements()))];
    }
}
