package io.emend.core.format.safetensors;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-assembled safetensors bytes, so tests can build files the writer would never produce. */
final class RawSafetensors {

    private RawSafetensors() {
    }

    /** length prefix (as given) + header bytes + data. */
    static byte[] bytes(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredHeaderLength).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** A well-formed prefix for the given header text, followed by data. */
    static Path write(Path dir, String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return write(dir, name, bytes(h.length, h, data));
    }

    static Path write(Path dir, String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    /** A file holding the given tensors of {@code source}, contiguous in the given order (header built by hand). */
    static Path copyOf(Path dir, String name, io.emend.core.tensor.TensorSource source, java.util.List<String> names)
            throws IOException {
        StringBuilder header = new StringBuilder("{");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (String n : names) {
            io.emend.core.tensor.TensorInfo t = source.find(n).orElseThrow();
            long begin = data.size();
            data.writeBytes(source.bytes(n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(n).append("\":{\"dtype\":\"").append(t.dtype())
                    .append("\",\"shape\":").append(java.util.Arrays.toString(t.shape()))
                    .append(",\"data_offsets\":[").append(begin).append(',').append(data.size()).append("]}");
        }
        header.append('}');
        return write(dir, name, header.toString(), data.toByteArray());
    }

    /** Little-endian F32 bytes. */
    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
