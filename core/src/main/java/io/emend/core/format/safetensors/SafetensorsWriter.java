package io.emend.core.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one safetensors file tensor by tensor, never holding more than the tensor being written.
 *
 * <p>The header must list every tensor's offsets before the first data byte, so the caller declares the tensors
 * up front and then supplies their data in that order. Data goes to a temporary file in the target's directory
 * that {@link #commit()} flushes and renames over the target atomically; closing without committing deletes it,
 * so a reader never sees a half-written file. The header is padded with spaces to a multiple of 8 bytes, as the
 * reference writer does, so that every tensor starts 8-byte aligned when tensors are multiples of 8 bytes.
 */
public final class SafetensorsWriter implements AutoCloseable {

    /** Header alignment used by the reference implementation. */
    static final int HEADER_ALIGNMENT = 8;
    /** Largest slice handed to one channel write (ByteBuffers are int-indexed). */
    private static final long WRITE_CHUNK_BYTES = 1L << 30;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final List<TensorInfo> tensors;
    private int next;
    private boolean committed;

    private SafetensorsWriter(Path target, Path temp, FileChannel channel, List<TensorInfo> tensors) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.tensors = tensors;
    }

    /**
     * Starts a file holding {@code tensors} in the given order, with an optional {@code __metadata__} map.
     *
     * @throws IllegalArgumentException on duplicate or reserved tensor names
     */
    public static SafetensorsWriter create(Path target, List<TensorInfo> tensors, Map<String, String> metadata)
            throws IOException {
        List<TensorInfo> copy = List.copyOf(tensors);
        byte[] header = header(copy, metadata);
        Path dir = target.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            writeFully(channel, ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip());
            writeFully(channel, ByteBuffer.wrap(header));
        } catch (IOException e) {
            channel.close();
            Files.deleteIfExists(temp);
            throw e;
        }
        return new SafetensorsWriter(target, temp, channel, copy);
    }

    /** The JSON header for tensors stored contiguously in list order, space-padded to {@link #HEADER_ALIGNMENT}. */
    static byte[] header(List<TensorInfo> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(m::put);
        }
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (TensorInfo t : tensors) {
            if (t.name().equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException("'" + SafetensorsFile.METADATA_KEY + "' is reserved, not a tensor name");
            }
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' is listed twice");
            }
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name());
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = Math.addExact(offset, t.byteSize());
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serializing a tree of strings and numbers cannot fail", e);
        }
        int padded = (json.length + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** The tensor whose data {@link #write} expects next, or null when all are written. */
    public TensorInfo nextTensor() {
        return next < tensors.size() ? tensors.get(next) : null;
    }

    /** Appends the stored bytes (little-endian, in the declared dtype) of the next declared tensor. */
    public void write(String name, MemorySegment bytes) throws IOException {
        TensorInfo t = expect(name);
        if (bytes.byteSize() != t.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + t + " needs " + t.byteSize()
                    + " bytes, got " + bytes.byteSize());
        }
        for (long pos = 0; pos < bytes.byteSize(); pos += WRITE_CHUNK_BYTES) {
            long len = Math.min(WRITE_CHUNK_BYTES, bytes.byteSize() - pos);
            writeFully(channel, bytes.asSlice(pos, len).asByteBuffer());
        }
        next++;
    }

    /** Appends F32 values for the next declared tensor, narrowed to its dtype (round to nearest even). */
    public void write(String name, float[] values) throws IOException {
        TensorInfo t = expect(name);
        if (values.length != t.elements()) {
            throw new IllegalArgumentException("tensor '" + name + "' " + t + " has " + t.elements()
                    + " elements, got " + values.length);
        }
        write(name, MemorySegment.ofArray(t.dtype().fromFloats(values)));
    }

    private TensorInfo expect(String name) {
        if (committed) {
            throw new IllegalStateException("already committed " + target);
        }
        TensorInfo t = nextTensor();
        if (t == null) {
            throw new IllegalStateException("tensor '" + name + "' was not declared; all declared tensors are written");
        }
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

    /** Flushes the file to disk and moves it onto the target atomically. Every declared tensor must be written. */
    public void commit() throws IOException {
        if (committed) {
            return;
        }
        if (next != tensors.size()) {
            throw new IllegalStateException("tensor '" + tensors.get(next).name() + "' and " + (tensors.size() - next - 1)
                    + " more were declared but not written to " + target);
        }
        channel.force(true);
        channel.close();
        moveAtomically(temp, target);
        committed = true;
    }

    /** Renames within one directory; replaces an existing target. */
    static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically", e);
        }
    }

    /** Discards the temporary file unless committed. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            channel.close();
            Files.deleteIfExists(temp);
        }
    }

    /** Fails when {@code target} exists, for callers that must not overwrite. */
    static void requireAbsent(Path target) throws FileAlreadyExistsException {
        if (Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "refusing to overwrite");
        }
    }
}
