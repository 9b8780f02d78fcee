package io.emend.core.edit.alphaedit;

import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.Progress;
import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * AlphaEdit's null-space projectors P of one base's key statistics at one energy share, per layer. Finding P takes an
 * eigen-decomposition of each layer's key moment, so a service stores them beside the statistics and every later
 * AlphaEdit of the base reuses them. {@link #compute} rounds P to F32, the precision it is stored in, so a job that
 * computes P and one that reads it write the same factors (F32 leaves {@code P k} of a preserved key at ~1e-7 of
 * {@code ‖k‖} instead of ~1e-15: far below the energy share the null space is chosen by).
 *
 * @param energy    the null-space energy share they were chosen with ({@link AlphaEditParams#nullSpaceEnergy()})
 * @param keyDim    the key width (P is {@code [keyDim, keyDim]})
 * @param layers    layer index to P
 */
public record NullSpaceProjectors(double energy, int keyDim, Map<Integer, Matrix> layers) {

    static final LayerMatrixFile FILE = new LayerMatrixFile("emend.alphaedit.null_space", "projector");
    /** The artifact name an edit version lists them under. */
    public static final String FILE_NAME = "null_space_projectors.safetensors";

    public NullSpaceProjectors {
        layers = Collections.unmodifiableMap(new TreeMap<>(layers));
        for (Map.Entry<Integer, Matrix> e : layers.entrySet()) {
            if (e.getValue().rows() != keyDim || e.getValue().cols() != keyDim) {
                throw new IllegalArgumentException("layer " + e.getKey() + " projector is " + e.getValue().rows() + "x"
                        + e.getValue().cols() + ", expected " + keyDim + "x" + keyDim);
            }
        }
    }

    /**
     * P for each of {@code layers} ({@link NullSpaceProjection#nullSpace}), reporting one step per layer.
     *
     * @throws IllegalArgumentException when a layer's statistics leave no null space within {@code energy}
     * @throws java.util.concurrent.CancellationException when {@code progress} asks to stop
     */
    public static NullSpaceProjectors compute(KeyStatistics stats, double energy, List<Integer> layers,
                                              Progress progress) {
        Map<Integer, Matrix> p = new TreeMap<>();
        int done = 0;
        for (int layer : layers) {
            progress.checkCancelled();
            progress.report("null-space projectors", done, layers.size());
            Matrix exact = NullSpaceProjection.nullSpace(stats.layer(layer), energy, layer);
            p.put(layer, Matrix.ofFloats(exact.rows(), exact.cols(), exact.toFloats()));
            done++;
        }
        progress.report("null-space projectors", done, layers.size());
        return new NullSpaceProjectors(energy, stats.keyDim(), p);
    }

    /** Whether these projectors serve an edit of {@code layers} at {@code energy}. */
    public boolean covers(double energy, List<Integer> layers) {
        return this.energy == energy && this.layers.keySet().containsAll(layers);
    }

    public void write(Path file) throws IOException {
        FILE.write(file, Map.of("energy", Double.toString(energy), "key_dim", Integer.toString(keyDim)), layers);
    }

    /**
     * @throws MalformedFileException when the file is not null-space projectors
     */
    public static NullSpaceProjectors read(Path file) throws IOException {
        LayerMatrixFile.Contents c = FILE.read(file);
        try {
            return new NullSpaceProjectors(Double.parseDouble(c.metadata().getOrDefault("energy", "")),
                    Integer.parseInt(c.metadata().getOrDefault("key_dim", "")), c.layers());
        } catch (NumberFormatException e) {
            throw new MalformedFileException(file, "metadata energy and key_dim must be numbers");
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(file, e.getMessage());
        }
    }
}
