package io.emend.core.edit.alphaedit;

import io.emend.core.edit.Matrix;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The file layout AlphaEdit's stored state shares: one square F32 tensor {@code layers.<i>.<suffix>} per layer, and
 * metadata whose {@code format} tag says what the matrices are.
 *
 * @param format  the {@code format} metadata value
 * @param suffix  the tensor name after {@code layers.<i>.}
 */
record LayerMatrixFile(String format, String suffix) {

    /** What a file holds: its metadata (with the format tag) and the matrices by layer. */
    record Contents(Map<String, String> metadata, Map<Integer, Matrix> layers) {
    }

    /** Writes atomically (the writer's temp file + rename). */
    void write(Path file, Map<String, String> metadata, Map<Integer, Matrix> layers) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<Integer, Matrix> e : new TreeMap<>(layers).entrySet()) {
            infos.add(new TensorInfo(name(e.getKey()), DType.F32, new long[] {e.getValue().rows(),
                    e.getValue().cols()}));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", format);
        meta.putAll(metadata);
        try (SafetensorsWriter w = SafetensorsWriter.create(file, infos, meta)) {
            for (Map.Entry<Integer, Matrix> e : new TreeMap<>(layers).entrySet()) {
                w.write(name(e.getKey()), e.getValue().toFloats());
            }
            w.commit();
        }
    }

    /**
     * @throws MalformedFileException on another format tag, a tensor that names no layer, or one that is not square
     */
    Contents read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!format.equals(meta.get("format"))) {
                throw new MalformedFileException(file, "metadata format is " + meta.get("format") + ", expected "
                        + format);
            }
            Map<Integer, Matrix> layers = new TreeMap<>();
            String end = "." + suffix;
            for (TensorInfo t : f.tensors()) {
                String name = t.name();
                if (!name.startsWith("layers.") || !name.endsWith(end)) {
                    throw new MalformedFileException(file, "unexpected tensor " + name);
                }
                int layer;
                try {
                    layer = Integer.parseInt(name.substring("layers.".length(), name.length() - end.length()));
                } catch (NumberFormatException e) {
                    throw new MalformedFileException(file, "tensor " + name + " does not name a layer");
                }
                long[] s = t.shape();
                if (s.length != 2 || s[0] != s[1]) {
                    throw new MalformedFileException(file, "tensor " + name + " has shape "
                            + java.util.Arrays.toString(s) + ", expected a square matrix");
                }
                layers.put(layer, Matrix.ofFloats((int) s[0], (int) s[1], f.floats(name)));
            }
            return new Contents(meta, layers);
        }
    }

    private String name(int layer) {
        return "layers." + layer + "." + suffix;
    }
}
