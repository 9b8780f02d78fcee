package io.emend.core.format.gguf;

import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A memory-mapped GGUF file (versions 2 and 3, little-endian): header, metadata key/values of every type, tensor
 * infos, and the tensor data, which stays mapped and is decoded only on request.
 *
 * <p>Layout: magic {@code "GGUF"}, uint32 version, uint64 tensor count, uint64 metadata count; the metadata
 * (string key, uint32 type, value; strings are uint64 length + UTF-8); the tensor infos (name, uint32 n_dims,
 * uint64 dims innermost first, uint32 ggml type, uint64 offset); padding to {@code general.alignment} (default 32);
 * then the data, each tensor at an aligned offset. Every read is bounds-checked: a truncated or inconsistent file
 * is a {@link MalformedFileException} naming the file and the field or tensor.
 */
public final class GgufFile implements AutoCloseable {

    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int VERSION = 3;
    /** Oldest version with 64-bit counts; version 3 only added big-endian files, which this reader rejects. */
    static final int MIN_VERSION = 2;
    public static final String ALIGNMENT_KEY = "general.alignment";
    public static final int DEFAULT_ALIGNMENT = 32;
    /** Most dimensions a ggml tensor has ({@code GGML_MAX_DIMS}). */
    static final int MAX_DIMS = 4;

    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensor> tensors;
    private final MemorySegment data;
    private final int alignment;

    private GgufFile(Path path, Arena arena, int version, Map<String, GgufValue> metadata, List<GgufTensor> tensors,
                     MemorySegment data, int alignment) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        Map<String, GgufTensor> byName = new LinkedHashMap<>();
        tensors.forEach(t -> byName.put(t.name(), t));
        this.tensors = Collections.unmodifiableMap(byName);
        this.data = data;
        this.alignment = alignment;
    }

    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return parse(path, arena, whole);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Sequential little-endian reads with bounds checks that name what was being read. */
    private static final class Cursor {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        final Path path;
        final MemorySegment seg;
        long pos;

        Cursor(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        MalformedFileException error(String what) {
            return new MalformedFileException(path, what);
        }

        void need(long bytes, String what) {
            if (bytes < 0 || bytes > seg.byteSize() - pos) {
                throw error("truncated: " + what + " needs " + (bytes < 0 ? Long.toUnsignedString(bytes) : bytes)
                        + " bytes at offset " + pos + ", the file has " + seg.byteSize());
            }
        }

        int u8(String what) {
            need(1, what);
            return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
        }

        short i16(String what) {
            need(2, what);
            short v = seg.get(I16, pos);
            pos += 2;
            return v;
        }

        int i32(String what) {
            need(4, what);
            int v = seg.get(I32, pos);
            pos += 4;
            return v;
        }

        long i64(String what) {
            need(8, what);
            long v = seg.get(I64, pos);
            pos += 8;
            return v;
        }

        float f32(String what) {
            need(4, what);
            float v = seg.get(F32, pos);
            pos += 4;
            return v;
        }

        double f64(String what) {
            need(8, what);
            double v = seg.get(F64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long length = i64(what + " length");
            need(length, what);
            byte[] bytes = seg.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
            pos += length;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw error(what + " is not valid UTF-8");
            }
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment whole) {
        Cursor in = new Cursor(path, whole);
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw in.error(String.format("magic 0x%08x is not GGUF", magic));
        }
        int version = in.i32("version");
        if (version < MIN_VERSION || version > VERSION) {
            throw in.error("version " + version + " is not supported (2 and 3 are)");
        }
        long tensorCount = in.i64("tensor_count");
        long kvCount = in.i64("metadata_kv_count");
        // Every entry takes at least 8 bytes, which bounds the counts before anything is allocated.
        if (tensorCount < 0 || tensorCount > whole.byteSize() / 8) {
            throw in.error("tensor_count " + Long.toUnsignedString(tensorCount) + " is impossible for the file size");
        }
        if (kvCount < 0 || kvCount > whole.byteSize() / 8) {
            throw in.error("metadata_kv_count " + Long.toUnsignedString(kvCount) + " is impossible for the file size");
        }
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key " + i);
            int typeId = in.i32("type of " + key);
            GgufValueType type = GgufValueType.fromId(typeId)
                    .orElseThrow(() -> in.error("metadata " + key + ": unknown value type " + typeId));
            if (metadata.put(key, readValue(in, key, type)) != null) {
                throw in.error("metadata " + key + " appears twice");
            }
        }
        int alignment = DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get(ALIGNMENT_KEY);
        if (a != null) {
            if (a.type() != GgufValueType.UINT32 || a.asLong() == 0 || Long.bitCount(a.asLong()) != 1) {
                throw in.error(ALIGNMENT_KEY + " must be a uint32 power of two, not " + a.value());
            }
            alignment = Math.toIntExact(a.asLong());
        }
        List<GgufTensor> tensors = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("tensor name " + i);
            String where = "tensor '" + name + "'";
            if (!names.add(name)) {
                throw in.error(where + " appears twice");
            }
            int dims = in.i32(where + " n_dims");
            if (dims < 1 || dims > MAX_DIMS) {
                throw in.error(where + ": n_dims " + dims + " is not in 1.." + MAX_DIMS);
            }
            long[] shape = new long[dims];
            for (int d = 0; d < dims; d++) {
                long ne = in.i64(where + " ne[" + d + "]");
                if (ne < 0) {
                    throw in.error(where + ": ne[" + d + "] = " + Long.toUnsignedString(ne) + " is too large");
                }
                shape[dims - 1 - d] = ne;
            }
            int typeId = in.i32(where + " type");
            GgmlType type = GgmlType.fromId(typeId).orElseThrow(() -> in.error(where + ": ggml type " + typeId
                    + " is not supported (F32, F16, Q8_0, Q4_0 are)"));
            long offset = in.i64(where + " offset");
            if (!type.fitsRow(shape[dims - 1])) {
                throw in.error(where + ": row length " + shape[dims - 1] + " is not a multiple of the " + type
                        + " block size " + type.blockSize());
            }
            if (offset < 0 || offset % alignment != 0) {
                throw in.error(where + ": offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment "
                        + alignment);
            }
            GgufTensor t = new GgufTensor(name, type, shape, offset);
            try {
                t.byteSize();
            } catch (ArithmeticException e) {
                throw in.error(where + ": shape " + java.util.Arrays.toString(shape) + " overflows");
            }
            tensors.add(t);
        }
        long dataStart = (in.pos + alignment - 1) / alignment * alignment;
        if (dataStart > whole.byteSize()) {
            throw in.error("truncated: the data section would start at " + dataStart + ", past the end");
        }
        long dataSize = whole.byteSize() - dataStart;
        List<GgufTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(GgufTensor::offset));
        long cursor = 0;
        GgufTensor previous = null;
        for (GgufTensor t : sorted) {
            if (t.offset() < cursor) {
                throw in.error("tensor '" + t.name() + "' at offset " + t.offset() + " overlaps tensor '"
                        + previous.name() + "' ending at " + cursor);
            }
            if (t.offset() + t.byteSize() > dataSize) {
                throw in.error("truncated: tensor '" + t.name() + "' needs bytes " + t.offset() + ".."
                        + (t.offset() + t.byteSize()) + " of a " + dataSize + "-byte data section");
            }
            cursor = t.offset() + t.byteSize();
            previous = t;
        }
        return new GgufFile(path, arena, version, metadata, tensors, whole.asSlice(dataStart, dataSize), alignment);
    }

    private static GgufValue readValue(Cursor in, String key, GgufValueType type) {
        String what = "metadata " + key;
        return switch (type) {
            case ARRAY -> {
                int elementId = in.i32(what + " element type");
                GgufValueType element = GgufValueType.fromId(elementId)
                        .orElseThrow(() -> in.error(what + ": unknown array element type " + elementId));
                if (element == GgufValueType.ARRAY) {
                    throw in.error(what + ": nested arrays are not supported");
                }
                long count = in.i64(what + " array length");
                long minBytes = element.bytes() > 0 ? element.bytes() : Long.BYTES;
                if (count < 0 || count > (in.seg.byteSize() - in.pos) / minBytes) {
                    throw in.error("truncated: " + what + " declares " + Long.toUnsignedString(count)
                            + " elements, more than the file holds");
                }
                List<Object> values = new ArrayList<>((int) count);
                for (long i = 0; i < count; i++) {
                    values.add(readValue(in, key + "[" + i + "]", element).value());
                }
                yield GgufValue.array(element, values);
            }
            default -> new GgufValue(type, null, readScalar(in, what, type));
        };
    }

    private static Object readScalar(Cursor in, String what, GgufValueType type) {
        return switch (type) {
            case UINT8 -> (long) in.u8(what);
            case INT8 -> (long) (byte) in.u8(what);
            case UINT16 -> (long) (in.i16(what) & 0xFFFF);
            case INT16 -> (long) in.i16(what);
            case UINT32 -> in.i32(what) & 0xFFFF_FFFFL;
            case INT32 -> (long) in.i32(what);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT32 -> (double) in.f32(what);
            case FLOAT64 -> in.f64(what);
            case BOOL -> {
                int b = in.u8(what);
                if (b > 1) {
                    throw in.error(what + ": bool byte " + b + " is neither 0 nor 1");
                }
                yield b == 1;
            }
            case STRING -> in.string(what);
            case ARRAY -> throw new IllegalStateException("arrays are read by readValue");
        };
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** All metadata, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public Optional<GgufValue> metadata(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** A metadata value that must be present, for readers that need it. */
    public GgufValue requireMetadata(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw new MalformedFileException(path, "metadata " + key + " is missing");
        }
        return v;
    }

    /** Tensors in file order. */
    public List<GgufTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    public Optional<GgufTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor's stored bytes, mapped, not copied. */
    public MemorySegment bytes(String name) {
        GgufTensor t = require(name);
        return data.asSlice(t.offset(), t.byteSize()).asReadOnly();
    }

    /** The tensor decoded (dequantized) to F32, row-major. */
    public float[] floats(String name) {
        GgufTensor t = require(name);
        return t.type().decode(bytes(name), t.elements());
    }

    private GgufTensor require(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException(path + ": no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
