package io.emend.core.tensor;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * Named dense tensors that can be read one at a time without loading the whole set:
 * a safetensors file, a sharded checkpoint, or an in-memory set in tests.
 * Closing it releases any mapping; segments returned earlier must not be used afterwards.
 */
public interface TensorSource extends AutoCloseable {

    /** Every tensor, in storage order. */
    List<TensorInfo> tensors();

    /** The tensor's info, if present. */
    Optional<TensorInfo> find(String name);

    /** The stored bytes (little-endian, in the tensor's dtype), read-only, without copying. */
    MemorySegment bytes(String name);

    /** The tensor widened to F32 in a new heap array (F16/BF16 widen exactly). */
    float[] floats(String name);

    @Override
    void close();
}
