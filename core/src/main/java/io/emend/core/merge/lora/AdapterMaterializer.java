package io.emend.core.merge.lora;

import io.emend.core.delta.LoraDelta;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.TensorSink;
import io.emend.core.merge.TensorView;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * Folds an adapter into its base as a new full model directory: {@code W' = W + s·B·A} for every targeted module,
 * row by row, every other tensor copied byte for byte, in the base's dtypes, with the base's config and tokenizer.
 * Like a merge, it streams tensor by tensor from the memory-mapped base.
 */
public final class AdapterMaterializer {

    private AdapterMaterializer() {
    }

    /**
     * @throws MergeException when the adapter targets a weight the base lacks or has another shape
     */
    public static void materialize(Path baseDir, LoraAdapter adapter, Path outDir, long maxShardBytes) throws IOException {
        Map<String, LoraDelta> byWeight = new java.util.HashMap<>();
        adapter.deltas().forEach(d -> byWeight.put(d.weightName(), d));
        try (TensorSource base = ShardedCheckpoint.open(baseDir, Optional.empty())) {
            check(base, adapter);
            try (CheckpointWriter w = CheckpointWriter.create(outDir, base.tensors(), Map.of("format", "pt"), maxShardBytes)) {
                for (TensorInfo t : base.tensors()) {
                    LoraDelta d = byWeight.get(t.name());
                    if (d == null) {
                        w.write(t.name(), base.bytes(t.name()));
                        continue;
                    }
                    TensorView in = TensorView.of(base.bytes(t.name()), t.dtype(), "base tensor '" + t.name() + "'");
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment out = arena.allocate(t.byteSize(), Long.BYTES);
                        TensorSink sink = TensorSink.of(out, t.dtype());
                        float[] row = new float[d.in()];
                        double[] sum = new double[d.in()];
                        for (int o = 0; o < d.out(); o++) {
                            in.read((long) o * d.in(), row, d.in());
                            for (int i = 0; i < d.in(); i++) {
                                sum[i] = row[i];
                            }
                            d.addRow(o, sum, 0, 1.0);
                            for (int i = 0; i < d.in(); i++) {
                                row[i] = (float) sum[i];
                            }
                            sink.write((long) o * d.in(), row, d.in());
                        }
                        w.write(t.name(), out);
                    }
                }
                w.commit();
            }
        }
        copySideFiles(baseDir, outDir);
    }

    /** Rejects an adapter whose modules the base lacks or has in another shape. */
    static void check(TensorSource base, LoraAdapter adapter) {
        for (LoraDelta d : adapter.deltas()) {
            TensorInfo t = base.find(d.weightName()).orElseThrow(() -> new MergeException("adapter module '"
                    + d.module() + "': the base has no tensor '" + d.weightName() + "'"));
            if (!Arrays.equals(t.shape(), new long[] {d.out(), d.in()})) {
                throw new MergeException("adapter module '" + d.module() + "' is [" + d.out() + ", " + d.in()
                        + "] but the base's '" + t.name() + "' is " + Arrays.toString(t.shape()));
            }
        }
    }

    /** Copies the config and tokenizer files a model directory needs besides its weights. */
    static void copySideFiles(Path from, Path to) throws IOException {
        for (String file : java.util.stream.Stream.concat(java.util.stream.Stream.of("config.json"),
                MergeExecutor.TOKENIZER_FILES.stream()).toList()) {
            Path src = from.resolve(file);
            if (Files.isRegularFile(src)) {
                Files.copy(src, to.resolve(file));
            }
        }
    }
}
