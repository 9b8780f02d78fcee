package io.emend.core.edit.alphaedit;

import io.emend.core.edit.Matrix;
import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The keys AlphaEdit has written so far, per layer, as {@code K_p K_pᵀ}: what later batches must leave alone. An edit
 * version stores them beside its delta, so the next AlphaEdit job on a descendant protects every earlier job's edits,
 * not only the earlier batches of its own request.
 *
 * @param edits  how many edits wrote them
 * @param grams  layer index to {@code K_p K_pᵀ}, {@code [keyDim, keyDim]}
 */
public record WrittenKeys(int edits, Map<Integer, Matrix> grams) {

    static final LayerMatrixFile FILE = new LayerMatrixFile("emend.alphaedit.written_keys", "kpkpt");
    /** The artifact name an edit version lists them under. */
    public static final String FILE_NAME = "alphaedit_keys.safetensors";

    public WrittenKeys {
        if (edits < 0) {
            throw new IllegalArgumentException("edits must be >= 0");
        }
        grams = Collections.unmodifiableMap(new TreeMap<>(grams));
    }

    public static WrittenKeys none() {
        return new WrittenKeys(0, Map.of());
    }

    public boolean isEmpty() {
        return grams.isEmpty();
    }

    /** These keys and {@code more}'s, layer by layer. */
    public WrittenKeys plus(WrittenKeys more) {
        Map<Integer, Matrix> sum = new TreeMap<>(grams);
        more.grams.forEach((layer, gram) -> sum.merge(layer, gram, Matrix::plus));
        return new WrittenKeys(edits + more.edits, sum);
    }

    public void write(Path file) throws IOException {
        FILE.write(file, Map.of("edits", Integer.toString(edits)), grams);
    }

    /**
     * @throws MalformedFileException when the file is not written keys
     */
    public static WrittenKeys read(Path file) throws IOException {
        LayerMatrixFile.Contents c = FILE.read(file);
        try {
            return new WrittenKeys(Integer.parseInt(c.metadata().getOrDefault("edits", "")), c.layers());
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(file, "metadata edits must be a count: " + e.getMessage());
        }
    }
}
