package io.emend.core.delta;

import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.ModelConfig;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Materializes an {@link EditDelta} into a new Hugging Face model directory: every file of the base directory except
 * its weights is copied, and the weights are streamed tensor by tensor with {@code U Vᵀ} added to the edited ones,
 * in each tensor's stored dtype and orientation (Llama {@code Linear} stores {@code [out, in]}; GPT-2's
 * {@code Conv1D} stores {@code [in, out]}, so it gets {@code V Uᵀ}). Unedited tensors are copied byte for byte.
 */
public final class EditDeltaCheckpoint {

    /** Shard size of the written checkpoint, as Hugging Face's default {@code max_shard_size}. */
    static final long MAX_SHARD_BYTES = 5L * 1000 * 1000 * 1000;

    private EditDeltaCheckpoint() {
    }

    /**
     * @param baseDir a Hugging Face model directory (config.json, weights, tokenizer files)
     * @param outDir  a directory that does not exist yet or is empty
     * @throws FileAlreadyExistsException when {@code outDir} has files
     * @throws IllegalArgumentException   when an edited weight is missing from the checkpoint or has another shape
     */
    public static void materialize(EditDelta delta, Path baseDir, Path outDir) throws IOException {
        if (Files.isDirectory(outDir)) {
            try (Stream<Path> s = Files.list(outDir)) {
                if (s.findAny().isPresent()) {
                    throw new FileAlreadyExistsException(outDir.toString(), null, "output directory is not empty");
                }
            }
        }
        ModelConfig config = HfConfig.read(baseDir.resolve("config.json"));
        boolean conv1d = config instanceof Gpt2Config;
        Files.createDirectories(outDir);
        try (TensorSource source = ShardedCheckpoint.open(baseDir, Optional.empty())) {
            Map<String, String> storedToCanonical = new HashMap<>();
            for (String canonical : delta.factors().keySet()) {
                storedToCanonical.put(storedName(source, canonical), canonical);
            }
            List<TensorInfo> tensors = source.tensors();
            try (CheckpointWriter w = CheckpointWriter.create(outDir, tensors, Map.of("format", "pt"),
                    MAX_SHARD_BYTES)) {
                for (TensorInfo t : tensors) {
                    String canonical = storedToCanonical.get(t.name());
                    if (canonical == null) {
                        w.write(t.name(), source.bytes(t.name()));
                    } else {
                        w.write(t.name(), edited(t, source.floats(t.name()), delta.factors().get(canonical), conv1d));
                    }
                }
                w.commit();
            }
            try (Stream<Path> files = Files.list(baseDir)) {
                for (Path p : files.toList()) {
                    String name = p.getFileName().toString();
                    if (Files.isRegularFile(p) && !isWeights(name)) {
                        Files.copy(p, outDir.resolve(name));
                    }
                }
            }
        }
    }

    private static boolean isWeights(String name) {
        return name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json") || name.endsWith(".bin")
                || name.equals(EditDelta.FILE_NAME);
    }

    /** The checkpoint's name for a canonical weight: GPT-2 files may omit the {@code transformer.} prefix. */
    private static String storedName(TensorSource source, String canonical) {
        if (source.find(canonical).isPresent()) {
            return canonical;
        }
        if (canonical.startsWith("transformer.")) {
            String bare = canonical.substring("transformer.".length());
            if (source.find(bare).isPresent()) {
                return bare;
            }
        }
        throw new IllegalArgumentException("the delta edits " + canonical + ", which the checkpoint does not have");
    }

    private static float[] edited(TensorInfo t, float[] w, EditDelta.Factors f, boolean conv1d) {
        long[] s = t.shape();
        long rows = conv1d ? f.in() : f.out();
        long cols = conv1d ? f.out() : f.in();
        if (s.length != 2 || s[0] != rows || s[1] != cols) {
            throw new IllegalArgumentException("the delta for " + t.name() + " is for a [" + rows + ", " + cols
                    + "] weight, the checkpoint stores " + java.util.Arrays.toString(s));
        }
        float[] d = f.dense();
        int out = f.out();
        int in = f.in();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                int at = conv1d ? i * out + o : o * in + i;
                w[at] += d[o * in + i];
            }
        }
        return w;
    }
}
