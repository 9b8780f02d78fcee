package io.emend.core.merge.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.delta.LoraDelta;
import io.emend.core.eval.Perplexity;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.infer.QuantRule;
import io.emend.core.merge.TensorView;
import io.emend.core.quant.Q4_0;
import io.emend.core.quant.Q8_0;
import io.emend.core.quant.WeightFormat;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.HalfFloat;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import io.emend.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Materializes an adapter into a base that is served quantized: for every adapted matrix, row by row,
 * <pre>
 *   W' = requantize(dequantize(quantize(W)) + s·B·A)
 * </pre>
 * in the format the engine gives that matrix under a {@link QuantRule} (Q8_0, Q4_0, or F16 where a row is not whole
 * 32-weight blocks, as llama.cpp falls back). The result is what serving computed with the unmerged adapter
 * ({@code x·Wq + s·(x·A)·B}) folded into one quantized matrix, so a version no longer needs the adapter at serving
 * time, at the price of one more rounding: {@link #measure} reports that price as perplexity.
 *
 * <p>The output is a Hugging Face directory like any version: adapted matrices are stored F32 with exactly the
 * requantized values (they lie on the quantization grid, so the engine's quantization at load reproduces the same
 * blocks), every other tensor is copied byte for byte. Streams tensor by tensor from the memory-mapped base.
 */
public final class QuantizedMaterializer {

    private QuantizedMaterializer() {
    }

    /** The format the engine stores a base tensor in under {@code rule}: F32 for vectors, norms and biases. */
    static WeightFormat formatOf(TensorInfo t, QuantRule rule) {
        if (t.shape().length != 2 || !t.name().endsWith(".weight")) {
            return WeightFormat.F32;
        }
        String n = t.name();
        QuantRule.Role role;
        if (n.contains("embed") || n.contains("lm_head")) {
            role = QuantRule.Role.HEAD;
        } else if (n.contains("self_attn.")) {
            role = QuantRule.Role.ATTENTION;
        } else if (n.contains("mlp.")) {
            role = QuantRule.Role.MLP;
        } else {
            return WeightFormat.F32;
        }
        return rule.formatFor(role, t.shape()[1]);
    }

    /** Replaces {@code row} by what {@code format} stores for it, dequantized: the values the engine computes with. */
    static void roundTrip(WeightFormat format, float[] row, MemorySegment scratch) {
        switch (format) {
            case F32 -> {
            }
            case F16 -> {
                for (int i = 0; i < row.length; i++) {
                    row[i] = HalfFloat.f16ToFloat(HalfFloat.floatToF16(row[i]));
                }
            }
            case Q8_0 -> {
                Q8_0.quantize(row, 0, row.length, scratch, 0);
                Q8_0.dequantize(scratch, 0, row, 0, row.length);
            }
            case Q4_0 -> {
                Q4_0.quantize(row, 0, row.length, scratch, 0);
                Q4_0.dequantize(scratch, 0, row, 0, row.length);
            }
        }
    }

    /**
     * Writes {@code base} with {@code adapter} folded in through the served quantization.
     *
     * @throws MergeException when the adapter targets a weight the base lacks or has another shape
     */
    public static void materialize(Path baseDir, LoraAdapter adapter, QuantRule rule, Path outDir, long maxShardBytes)
            throws IOException {
        Map<String, LoraDelta> byWeight = byWeight(adapter);
        try (TensorSource base = ShardedCheckpoint.open(baseDir, Optional.empty())) {
            AdapterMaterializer.check(base, adapter);
            List<TensorInfo> outputs = new ArrayList<>();
            for (TensorInfo t : base.tensors()) {
                outputs.add(byWeight.containsKey(t.name()) ? new TensorInfo(t.name(), DType.F32, t.shape()) : t);
            }
            try (CheckpointWriter w = CheckpointWriter.create(outDir, outputs, Map.of("format", "pt"), maxShardBytes)) {
                for (TensorInfo t : base.tensors()) {
                    LoraDelta d = byWeight.get(t.name());
                    if (d == null) {
                        w.write(t.name(), base.bytes(t.name()));
                        continue;
                    }
                    WeightFormat format = formatOf(t, rule);
                    TensorView in = TensorView.of(base.bytes(t.name()), t.dtype(), "base tensor '" + t.name() + "'");
                    float[] out = new float[Math.toIntExact(t.elements())];
                    float[] row = new float[d.in()];
                    double[] sum = new double[d.in()];
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment scratch = arena.allocate(Math.max(1, Q8_0.byteSize(blockCeil(d.in()))));
                        for (int o = 0; o < d.out(); o++) {
                            in.read((long) o * d.in(), row, d.in());
                            roundTrip(format, row, scratch);
                            for (int i = 0; i < d.in(); i++) {
                                sum[i] = row[i];
                            }
                            d.addRow(o, sum, 0, 1.0);
                            for (int i = 0; i < d.in(); i++) {
                                row[i] = (float) sum[i];
                            }
                            roundTrip(format, row, scratch);
                            System.arraycopy(row, 0, out, o * d.in(), d.in());
                        }
                    }
                    w.write(t.name(), out);
                }
                w.commit();
            }
        }
        AdapterMaterializer.copySideFiles(baseDir, outDir);
    }

    /**
     * Writes a model as the engine sees it under {@code rule}: every matrix replaced by its dequantized stored form,
     * in F32. The graph can then evaluate what serving computes.
     */
    public static void served(Path modelDir, QuantRule rule, Path outDir) throws IOException {
        try (TensorSource source = ShardedCheckpoint.open(modelDir, Optional.empty())) {
            List<TensorInfo> outputs = source.tensors().stream()
                    .map(t -> new TensorInfo(t.name(), DType.F32, t.shape())).toList();
            try (CheckpointWriter w = CheckpointWriter.create(outDir, outputs, Map.of("format", "pt"), Long.MAX_VALUE);
                 Arena arena = Arena.ofConfined()) {
                for (TensorInfo t : source.tensors()) {
                    WeightFormat format = formatOf(t, rule);
                    int cols = t.shape().length == 2 ? Math.toIntExact(t.shape()[1]) : Math.toIntExact(t.elements());
                    long rows = t.elements() / Math.max(1, cols);
                    TensorView in = TensorView.of(source.bytes(t.name()), t.dtype(), "tensor '" + t.name() + "'");
                    MemorySegment scratch = arena.allocate(Math.max(1, Q8_0.byteSize(blockCeil(cols))));
                    float[] out = new float[Math.toIntExact(t.elements())];
                    float[] row = new float[cols];
                    for (long r = 0; r < rows; r++) {
                        in.read(r * cols, row, cols);
                        roundTrip(format, row, scratch);
                        System.arraycopy(row, 0, out, Math.toIntExact(r * cols), cols);
                    }
                    w.write(t.name(), out);
                }
                w.commit();
            }
        }
        AdapterMaterializer.copySideFiles(modelDir, outDir);
    }

    /**
     * Perplexities of serving the adapter unmerged over the quantized base and of serving the materialized model.
     *
     * @param unmerged     {@code x·deq(Wq) + s·(x·A)·B}: the base as served plus the adapter as a low-rank delta
     * @param materialized the materialized directory as served
     */
    public record Report(double unmerged, double materialized) {
        /** Relative change, {@code materialized / unmerged − 1}. */
        public double relativeChange() {
            return materialized / unmerged - 1;
        }
    }

    /**
     * Measures what materializing cost on {@code text} (perplexity as {@link Perplexity#of} defines it), through the
     * graph on the dequantized served weights. {@code scratch} receives the two served views and is left to the
     * caller.
     */
    public static Report measure(Path baseDir, LoraAdapter adapter, QuantRule rule, Path materializedDir, String text,
                                 Path scratch) throws IOException {
        Path servedBase = scratch.resolve("served-base");
        Path servedMerged = scratch.resolve("served-materialized");
        served(baseDir, rule, servedBase);
        served(materializedDir, rule, servedMerged);
        try (Tokenizer tokenizer = Tokenizer.load(baseDir)) {
            double unmerged;
            try (Transformer model = Transformer.open(servedBase, Optional.empty());
                 NDManager deltas = NDManager.newBaseManager()) {
                ForwardOptions options = ForwardOptions.defaults();
                for (LoraDelta d : adapter.deltas()) {
                    // the graph keeps projections [in, out]: a = Aᵀ [in, r], b = Bᵀ [r, out]
                    NDArray a = deltas.create(d.a(), new Shape(d.rank(), d.in())).transpose().duplicate();
                    NDArray b = deltas.create(d.b(), new Shape(d.out(), d.rank())).transpose().duplicate();
                    options = options.withDelta(d.weightName(), new WeightDelta.LowRank(a, b, d.scale()));
                }
                int window = model.config().maxPositions();
                unmerged = Perplexity.of(model, tokenizer, text, window, Math.max(1, window / 2), options).perplexity();
            }
            double materialized;
            try (Transformer model = Transformer.open(servedMerged, Optional.empty())) {
                materialized = Perplexity.of(model, tokenizer, text).perplexity();
            }
            return new Report(unmerged, materialized);
        }
    }

    private static long blockCeil(int n) {
        return (long) Math.ceilDiv(n, Q8_0.BLOCK_SIZE) * Q8_0.BLOCK_SIZE;
    }

    private static Map<String, LoraDelta> byWeight(LoraAdapter adapter) {
        Map<String, LoraDelta> byWeight = new HashMap<>();
        adapter.deltas().forEach(d -> byWeight.put(d.weightName(), d));
        return byWeight;
    }
}
