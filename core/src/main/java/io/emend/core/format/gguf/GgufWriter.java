package io.emend.core.format.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file: metadata and tensor infos first (offsets are computed from the declared tensors), then
 * the tensor data streamed in declaration order, each tensor padded to the alignment. Written to a temporary file
 * and renamed onto the target by {@link #commit()}; closing without committing leaves nothing behind.
 */
public final class GgufWriter implements AutoCloseable {

    /** A tensor to write: name, storage type and row-major shape (outermost first). */
    public record Declaration(String name, GgmlType type, long[] shape) {
        public Declaration {
            shape = shape.clone();
        }
    }

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final List<GgufTensor> tensors;
    private final int alignment;
    private int next;
    private boolean committed;

    private GgufWriter(Path target, Path temp, FileChannel channel, List<GgufTensor> tensors, int alignment) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.tensors = tensors;
        this.alignment = alignment;
    }

    /**
     * Starts a file. {@code general.alignment} in the metadata, if present, sets the alignment (default 32).
     *
     * @throws IllegalArgumentException for duplicate names, rows that are not whole blocks, or a bad alignment
     */
    public static GgufWriter create(Path target, Map<String, GgufValue> metadata, List<Declaration> declarations)
            throws IOException {
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue a = metadata.get(GgufFile.ALIGNMENT_KEY);
        if (a != null) {
            if (a.type() != GgufValueType.UINT32 || Long.bitCount(a.asLong()) != 1) {
                throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " must be a uint32 power of two");
            }
            alignment = Math.toIntExact(a.asLong());
        }
        List<GgufTensor> tensors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Declaration d : declarations) {
            if (!names.add(d.name())) {
                throw new IllegalArgumentException("tensor '" + d.name() + "' is declared twice");
            }
            if (d.shape().length < 1 || d.shape().length > GgufFile.MAX_DIMS) {
                throw new IllegalArgumentException("tensor '" + d.name() + "' has " + d.shape().length + " dimensions");
            }
            long[] shape = d.shape();
            if (!d.type().fitsRow(shape[shape.length - 1])) {
                throw new IllegalArgumentException("tensor '" + d.name() + "': row length " + shape[shape.length - 1]
                        + " is not a multiple of the " + d.type() + " block size " + d.type().blockSize());
            }
            GgufTensor t = new GgufTensor(d.name(), d.type(), shape, offset);
            tensors.add(t);
            offset = align(offset + t.byteSize(), alignment);
        }
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        Out out = new Out(header);
        out.i32(GgufFile.MAGIC);
        out.i32(GgufFile.VERSION);
        out.i64(tensors.size());
        out.i64(metadata.size());
        for (Map.Entry<String, GgufValue> kv : new LinkedHashMap<>(metadata).entrySet()) {
            out.string(kv.getKey());
            out.i32(kv.getValue().type().id());
            writeValue(out, kv.getValue());
        }
        for (GgufTensor t : tensors) {
            out.string(t.name());
            long[] shape = t.shape();
            out.i32(shape.length);
            for (int d = shape.length - 1; d >= 0; d--) {
                out.i64(shape[d]);
            }
            out.i32(t.type().id());
            out.i64(t.offset());
        }
        int pad = (int) (align(header.size(), alignment) - header.size());
        header.write(new byte[pad], 0, pad);

        Path dir = target.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            writeFully(channel, ByteBuffer.wrap(header.toByteArray()));
        } catch (IOException e) {
            channel.close();
            Files.deleteIfExists(temp);
            throw e;
        }
        return new GgufWriter(target, temp, channel, List.copyOf(tensors), alignment);
    }

    static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private static void writeValue(Out out, GgufValue v) {
        if (v.type() == GgufValueType.ARRAY) {
            out.i32(v.elementType().id());
            out.i64(v.asList().size());
            for (Object element : v.asList()) {
                writeScalar(out, v.elementType(), element);
            }
        } else {
            writeScalar(out, v.type(), v.value());
        }
    }

    private static void writeScalar(Out out, GgufValueType type, Object value) {
        switch (type) {
            case UINT8, INT8 -> out.bytes.write((int) number(value).longValue());
            case UINT16, INT16 -> out.i16((short) number(value).longValue());
            case UINT32, INT32 -> out.i32((int) number(value).longValue());
            case UINT64, INT64 -> out.i64(number(value).longValue());
            case FLOAT32 -> out.i32(Float.floatToRawIntBits(number(value).floatValue()));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits(number(value).doubleValue()));
            case BOOL -> out.bytes.write((Boolean) value ? 1 : 0);
            case STRING -> out.string((String) value);
            case ARRAY -> throw new IllegalArgumentException("nested arrays are not supported");
        }
    }

    private static Number number(Object value) {
        if (!(value instanceof Number n)) {
            throw new IllegalArgumentException(value + " is not a number");
        }
        return n;
    }

    /** Little-endian primitives into a byte stream. */
    private record Out(ByteArrayOutputStream bytes) {
        void i16(short v) {
            bytes.write(v & 0xFF);
            bytes.write((v >>> 8) & 0xFF);
        }

        void i32(int v) {
            bytes.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        void i64(long v) {
            bytes.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes.writeBytes(b);
        }
    }

    /** The tensors as they will be laid out, offsets included. */
    public List<GgufTensor> tensors() {
        return tensors;
    }

    /** Appends the next declared tensor's bytes, already in its ggml layout. */
    public void write(String name, MemorySegment stored) throws IOException {
        GgufTensor t = expect(name);
        if (stored.byteSize() != t.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + t.byteSize() + " bytes, got "
                    + stored.byteSize());
        }
        writeFully(channel, stored.asByteBuffer());
        long end = t.offset() + t.byteSize();
        writeFully(channel, ByteBuffer.allocate((int) (align(end, alignment) - end)));
        next++;
    }

    /** Encodes F32 values (row-major) in the next tensor's type, quantizing as llama.cpp does, and appends them. */
    public void write(String name, float[] values) throws IOException {
        GgufTensor t = expect(name);
        if (values.length != t.elements()) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + t.elements() + " elements, got "
                    + values.length);
        }
        write(name, MemorySegment.ofArray(t.type().encode(values)));
    }

    private GgufTensor expect(String name) {
        if (committed) {
            throw new IllegalStateException("already committed " + target);
        }
        if (next >= tensors.size()) {
            throw new IllegalStateException("tensor '" + name + "' was not declared; all declared tensors are written");
        }
        GgufTensor t = tensors.get(next);
        if (!t.name().equals(name)) {
            throw new IllegalStateException("tensor '" + name + "' written out of order; '" + t.name() + "' is next");
        }
        return t;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** Flushes and renames the file onto the target; every declared tensor must have been written. */
    public void commit() throws IOException {
        if (committed) {
            return;
        }
        if (next != tensors.size()) {
            throw new IllegalStateException("tensor '" + tensors.get(next).name() + "' was declared but not written");
        }
        channel.force(true);
        channel.close();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + temp + " to " + target + " atomically", e);
        }
        committed = true;
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            channel.close();
            Files.deleteIfExists(temp);
        }
    }
}
