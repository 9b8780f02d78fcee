package io.emend.core.delta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.WeightDelta;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a batch of knowledge edits as low-rank factors, not a dense copy: per edited weight,
 * {@code ΔW = U · Vᵀ} in Hugging Face {@code Linear} orientation ({@code [out, in]}, {@code y = W x}), with one column
 * per edit (rank = number of edits in that weight). Serving adds {@code (x · V) · Uᵀ} on top of an unchanged, possibly
 * quantized base; {@link EditDeltaCheckpoint} materializes it into a new checkpoint.
 *
 * <p>File layout ({@code edit_delta.safetensors}): tensors {@code <weight>.u} [out, rank] and {@code <weight>.v}
 * [in, rank], F32, named by the graph's canonical weight names; metadata {@code format = emend.edit_delta},
 * {@code method}, {@code edits}.
 *
 * @param method  the algorithm that produced it ({@code rome}, {@code memit}, {@code alphaedit})
 * @param edits   how many edit requests it carries
 * @param factors canonical weight name to its factors
 */
public record EditDelta(String method, int edits, Map<String, Factors> factors) {

    public static final String FILE_NAME = "edit_delta.safetensors";
    static final String FORMAT = "emend.edit_delta";

    public EditDelta {
        factors = Collections.unmodifiableMap(new LinkedHashMap<>(factors));
    }

    /**
     * One weight's factors.
     *
     * @param out  rows of the weight in {@code Linear} orientation (the layer's output width)
     * @param in   columns (the key width)
     * @param rank columns of U and V
     * @param u    [out, rank], row-major
     * @param v    [in, rank], row-major
     */
    public record Factors(int out, int in, int rank, float[] u, float[] v) {

        public Factors {
            if (u.length != (long) out * rank || v.length != (long) in * rank) {
                throw new IllegalArgumentException("factors of rank " + rank + " for a [" + out + ", " + in
                        + "] weight need u of " + ((long) out * rank) + " and v of " + ((long) in * rank)
                        + " values, got " + u.length + " and " + v.length);
            }
            for (float f : u) {
                requireFinite(f);
            }
            for (float f : v) {
                requireFinite(f);
            }
        }

        private static void requireFinite(float f) {
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException("edit factors contain NaN or infinity");
            }
        }

        /** {@code U Vᵀ} as a dense [out, in] array, row-major. */
        public float[] dense() {
            float[] d = new float[out * in];
            for (int o = 0; o < out; o++) {
                for (int r = 0; r < rank; r++) {
                    float uo = u[o * rank + r];
                    for (int i = 0; i < in; i++) {
                        d[o * in + i] += uo * v[i * rank + r];
                    }
                }
            }
            return d;
        }

        /** These columns followed by {@code other}'s: {@code [U₁ U₂][V₁ V₂]ᵀ = U₁V₁ᵀ + U₂V₂ᵀ}. */
        public Factors concat(Factors other) {
            if (other.out != out || other.in != in) {
                throw new IllegalArgumentException("cannot join factors of [" + out + ", " + in + "] and ["
                        + other.out + ", " + other.in + "] weights");
            }
            int r = rank + other.rank;
            return new Factors(out, in, r, joinColumns(u, out, rank, other.u, other.rank),
                    joinColumns(v, in, rank, other.v, other.rank));
        }

        private static float[] joinColumns(float[] a, int rows, int ca, float[] b, int cb) {
            float[] j = new float[rows * (ca + cb)];
            for (int i = 0; i < rows; i++) {
                System.arraycopy(a, i * ca, j, i * (ca + cb), ca);
                System.arraycopy(b, i * cb, j, i * (ca + cb) + ca, cb);
            }
            return j;
        }
    }

    /** No edits. */
    public static EditDelta empty(String method) {
        return new EditDelta(method, 0, Map.of());
    }

    /** Both deltas' edits: factors of a weight in both are joined column-wise. */
    public EditDelta plus(EditDelta other) {
        Map<String, Factors> joined = new LinkedHashMap<>(factors);
        other.factors.forEach((name, f) -> joined.merge(name, f, Factors::concat));
        return new EditDelta(method, edits + other.edits, joined);
    }

    /**
     * The factors as graph deltas, arrays created in {@code scope} (the caller closes it): the graph stores
     * projections {@code [in, out]}, so {@code ΔW_graph = V Uᵀ}, a {@link WeightDelta.LowRank} with a = V, b = Uᵀ.
     */
    public Map<String, List<WeightDelta>> weightDeltas(NDManager scope) {
        Map<String, List<WeightDelta>> out = new LinkedHashMap<>();
        factors.forEach((name, f) -> {
            NDArray a = scope.create(f.v, new Shape(f.in, f.rank));
            NDArray b = scope.create(f.u, new Shape(f.out, f.rank)).transpose();
            out.put(name, List.of(new WeightDelta.LowRank(a, b, 1.0)));
        });
        return out;
    }

    /** {@code options} with this delta added, its arrays in {@code scope}. */
    public ForwardOptions applyTo(ForwardOptions options, NDManager scope) {
        return options.withDeltas(weightDeltas(scope));
    }

    /** Writes {@value #FILE_NAME}-style safetensors (temp file + atomic rename). */
    public void write(Path file) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        factors.forEach((name, f) -> {
            infos.add(new TensorInfo(name + ".u", DType.F32, new long[] {f.out, f.rank}));
            infos.add(new TensorInfo(name + ".v", DType.F32, new long[] {f.in, f.rank}));
        });
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("method", method);
        meta.put("edits", Integer.toString(edits));
        meta.put("orientation", "delta = u @ v.T, [out, in] as torch.nn.Linear.weight");
        try (SafetensorsWriter w = SafetensorsWriter.create(file, infos, meta)) {
            for (Map.Entry<String, Factors> e : factors.entrySet()) {
                w.write(e.getKey() + ".u", e.getValue().u);
                w.write(e.getKey() + ".v", e.getValue().v);
            }
            w.commit();
        }
    }

    /**
     * @throws MalformedFileException when the file is not an edit delta: wrong format tag, an unpaired factor, shapes
     *                                that do not agree, non-finite values
     */
    public static EditDelta read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new MalformedFileException(file, "metadata format is " + meta.get("format") + ", expected "
                        + FORMAT);
            }
            int edits;
            try {
                edits = Integer.parseInt(meta.getOrDefault("edits", ""));
            } catch (NumberFormatException e) {
                throw new MalformedFileException(file, "metadata edits must be an integer");
            }
            Map<String, Factors> factors = new LinkedHashMap<>();
            for (TensorInfo t : f.tensors()) {
                if (!t.name().endsWith(".u")) {
                    if (!t.name().endsWith(".v")) {
                        throw new MalformedFileException(file, "tensor " + t.name() + " is neither a .u nor a .v factor");
                    }
                    continue;
                }
                String weight = t.name().substring(0, t.name().length() - 2);
                TensorInfo v = f.find(weight + ".v").orElseThrow(() -> new MalformedFileException(file,
                        "factor " + weight + ".u has no " + weight + ".v"));
                long[] us = t.shape();
                long[] vs = v.shape();
                if (us.length != 2 || vs.length != 2 || us[1] != vs[1]) {
                    throw new MalformedFileException(file, "factors of " + weight + " have shapes "
                            + java.util.Arrays.toString(us) + " and " + java.util.Arrays.toString(vs)
                            + "; expected [out, rank] and [in, rank]");
                }
                try {
                    factors.put(weight, new Factors((int) us[0], (int) vs[0], (int) us[1], f.floats(t.name()),
                            f.floats(weight + ".v")));
                } catch (IllegalArgumentException e) {
                    throw new MalformedFileException(file, weight + ": " + e.getMessage());
                }
            }
            for (TensorInfo t : f.tensors()) {
                if (t.name().endsWith(".v") && !factors.containsKey(t.name().substring(0, t.name().length() - 2))) {
                    throw new MalformedFileException(file, "factor " + t.name() + " has no matching .u");
                }
            }
            return new EditDelta(meta.getOrDefault("method", "unknown"), edits, factors);
        }
    }
}
