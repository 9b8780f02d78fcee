package io.emend.core.merge.lora;

import io.emend.core.delta.LoraDelta;
import io.emend.core.eval.Perplexity;
import io.emend.core.format.Fixtures;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.infer.QuantRule;
import io.emend.core.quant.Q8_0;
import io.emend.core.quant.WeightFormat;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.HalfFloat;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizedMaterializerTest {

    private static final Path BASE = Fixtures.model("stories260k");
    private static final String Q = "model.layers.1.self_attn.q_proj";
    private static final String V = "model.layers.3.self_attn.v_proj";
    /** 172 input features: not whole 32-weight blocks, so the engine keeps it F16 whatever the rule says. */
    private static final String DOWN = "model.layers.2.mlp.down_proj";

    @TempDir
    Path tmp;

    /** A random rank-4 adapter on three stories260k projections, of about a tenth of their weights' scale. */
    private static LoraAdapter adapter() {
        PeftAdapterConfig config = PeftAdapterConfig.parse("cfg", """
                {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj", "down_proj"],
                 "base_model_name_or_path": "stories260k"}
                """);
        Random random = new Random(11);
        return new LoraAdapter(config, List.of(delta(Q, 64, 64, random, config.scale()),
                delta(V, 64, 32, random, config.scale()), delta(DOWN, 172, 64, random, config.scale())));
    }

    private static LoraDelta delta(String module, int in, int out, Random random, double scale) {
        float[] a = new float[4 * in];
        float[] b = new float[out * 4];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (random.nextGaussian() * 0.1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (random.nextGaussian() * 0.1);
        }
        return new LoraDelta(module, 4, in, out, a, b, scale);
    }

    @Test
    void adaptedRowsAreRequantizedSumsOfTheServedBaseAndTheAdapterAndStayOnTheGrid() throws Exception {
        LoraAdapter adapter = adapter();
        Path out = tmp.resolve("q8");
        QuantizedMaterializer.materialize(BASE, adapter, QuantRule.uniform(WeightFormat.Q8_0), out, Long.MAX_VALUE);
        try (TensorSource base = ShardedCheckpoint.open(BASE, Optional.empty());
             TensorSource merged = ShardedCheckpoint.open(out, Optional.empty());
             Arena arena = Arena.ofConfined()) {
            MemorySegment blocks = arena.allocate(Q8_0.byteSize(192));
            for (LoraDelta d : adapter.deltas()) {
                TensorInfo info = merged.find(d.weightName()).orElseThrow();
                assertEquals(DType.F32, info.dtype(), "adapted matrices hold exact grid values");
                float[] w = base.floats(d.weightName());
                float[] got = merged.floats(d.weightName());
                double[] ba = d.dense();
                WeightFormat format = d.in() % 32 == 0 ? WeightFormat.Q8_0 : WeightFormat.F16;
                for (int o = 0; o < d.out(); o++) {
                    float[] row = new float[d.in()];
                    System.arraycopy(w, o * d.in(), row, 0, d.in());
                    // the served base row: quantize, dequantize (by the codecs, independently of the materializer)
                    row = grid(format, row, blocks);
                    for (int i = 0; i < d.in(); i++) {
                        row[i] = (float) (row[i] + ba[o * d.in() + i]);
                    }
                    float[] expected = grid(format, row, blocks);
                    float[] actual = new float[d.in()];
                    System.arraycopy(got, o * d.in(), actual, 0, d.in());
                    assertArrayEquals(expected, actual, 0f, d.weightName() + " row " + o);
                    assertArrayEquals(actual, grid(format, actual.clone(), blocks), 0f,
                            "quantizing at load must give back the same values: " + d.weightName() + " row " + o);
                }
            }
            for (TensorInfo t : base.tensors()) {
                if (adapter.deltas().stream().noneMatch(d -> d.weightName().equals(t.name()))) {
                    assertEquals(t, merged.find(t.name()).orElseThrow());
                    assertEquals(-1, base.bytes(t.name()).mismatch(merged.bytes(t.name())), t.name() + " is copied");
                }
            }
        }
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
    }

    private static float[] grid(WeightFormat format, float[] row, MemorySegment blocks) {
        if (format == WeightFormat.F16) {
            for (int i = 0; i < row.length; i++) {
                row[i] = HalfFloat.f16ToFloat(HalfFloat.floatToF16(row[i]));
            }
            return row;
        }
        Q8_0.quantize(row, 0, row.length, blocks, 0);
        float[] back = new float[row.length];
        Q8_0.dequantize(blocks, 0, back, 0, row.length);
        return back;
    }

    @Test
    void perplexityChangeIsNilWithoutQuantizationAndMeasuredWithIt() throws Exception {
        LoraAdapter adapter = adapter();
        String text = String.join("\n\n", Perplexity.documents(Files.readString(BASE.resolve("tinystories-valid.txt")))
                .subList(0, 12));
        QuantizedMaterializer.Report[] reports = new QuantizedMaterializer.Report[3];
        int i = 0;
        for (WeightFormat f : List.of(WeightFormat.F32, WeightFormat.Q8_0, WeightFormat.Q4_0)) {
            QuantRule rule = QuantRule.uniform(f);
            Path out = tmp.resolve("m-" + f);
            QuantizedMaterializer.materialize(BASE, adapter, rule, out, Long.MAX_VALUE);
            Path scratch = Files.createDirectories(tmp.resolve("s-" + f));
            reports[i++] = QuantizedMaterializer.measure(BASE, adapter, rule, out, text, scratch);
        }
        // F32 serving: materializing only moves the same sum from the forward into the weights (float rounding)
        assertEquals(0, reports[0].relativeChange(), 1e-4, reports[0].toString());
        // quantized serving: one more rounding of the adapted rows, a small but real change
        for (QuantizedMaterializer.Report r : List.of(reports[1], reports[2])) {
            assertTrue(Double.isFinite(r.unmerged()) && Double.isFinite(r.materialized()), r.toString());
            assertNotEquals(r.unmerged(), r.materialized(), r.toString());
            assertTrue(Math.abs(r.relativeChange()) < 0.05, r.toString());
        }
        // the served base differs between rules, so the unmerged perplexities do too
        assertNotEquals(reports[1].unmerged(), reports[2].unmerged());
    }
}
