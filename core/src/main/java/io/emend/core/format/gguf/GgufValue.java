package io.emend.core.format.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value with its stored type. Integers are held as {@code Long} (unsigned types keep their
 * unsigned value, UINT64 as the raw bits), floats as {@code Double}, booleans as {@code Boolean}, strings as
 * {@code String}, arrays as a {@code List} of such values with {@code elementType} giving the stored type.
 *
 * @param type        the stored type
 * @param elementType for arrays, the element type; otherwise null
 * @param value       the value as described above
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if (type == GgufValueType.ARRAY) {
            Objects.requireNonNull(elementType, "array element type");
            if (elementType == GgufValueType.ARRAY) {
                throw new IllegalArgumentException("nested arrays are not supported");
            }
            value = List.copyOf((List<?>) value);
        } else if (elementType != null) {
            throw new IllegalArgumentException("only arrays have an element type");
        }
    }

    public static GgufValue uint32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(v + " is not a uint32");
        }
        return new GgufValue(GgufValueType.UINT32, null, v);
    }

    public static GgufValue int32(int v) {
        return new GgufValue(GgufValueType.INT32, null, (long) v);
    }

    public static GgufValue uint64(long v) {
        return new GgufValue(GgufValueType.UINT64, null, v);
    }

    public static GgufValue float32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, null, (double) v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, null, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufValueType.STRING, null, v);
    }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, values);
    }

    /** An integer of any integer type. */
    public long asLong() {
        if (!(value instanceof Long l)) {
            throw new IllegalStateException(type + " is not an integer");
        }
        return l;
    }

    /** A FLOAT32/FLOAT64 value. */
    public double asDouble() {
        if (!(value instanceof Double d)) {
            throw new IllegalStateException(type + " is not a float");
        }
        return d;
    }

    public String asString() {
        if (!(value instanceof String s)) {
            throw new IllegalStateException(type + " is not a string");
        }
        return s;
    }

    public boolean asBool() {
        if (!(value instanceof Boolean b)) {
            throw new IllegalStateException(type + " is not a bool");
        }
        return b;
    }

    public List<?> asList() {
        if (!(value instanceof List<?> l)) {
            throw new IllegalStateException(type + " is not an array");
        }
        return l;
    }
}
