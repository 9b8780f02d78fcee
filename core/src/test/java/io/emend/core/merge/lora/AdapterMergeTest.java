package io.emend.core.merge.lora;

import io.emend.core.delta.LoraDelta;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.format.safetensors.ShardedCheckpoint;
import io.emend.core.merge.MergeCatalog;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.TensorParameters;
import io.emend.core.merge.TensorSink;
import io.emend.core.merge.TensorView;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;
import io.emend.core.tensor.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdapterMergeTest {

    private static final String Q = "model.layers.0.self_attn.q_proj";
    private static final String V = "model.layers.0.self_attn.v_proj";
    private static final int IN = 12;
    private static final int OUT = 10;

    @TempDir
    Path tmp;

    /** Writes a PEFT adapter with random factors for q_proj and v_proj and reads it back through the real reader. */
    private LoraAdapter adapter(String name, int r, double alpha, long seed) throws IOException {
        Random random = new Random(seed);
        PeftAdapterConfig config = PeftAdapterConfig.parse("cfg", """
                {"peft_type": "LORA", "r": %d, "lora_alpha": %s, "target_modules": ["q_proj", "v_proj"],
                 "base_model_name_or_path": "tiny", "lora_dropout": 0.05}
                """.formatted(r, alpha));
        List<LoraDelta> deltas = List.of(delta(Q, r, random, config.scale()), delta(V, r, random, config.scale()));
        Path dir = tmp.resolve(name);
        new LoraAdapter(config, deltas).write(dir);
        return LoraAdapter.read(dir);
    }

    private static LoraDelta delta(String module, int r, Random random, double scale) {
        float[] a = new float[r * IN];
        float[] b = new float[OUT * r];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        return new LoraDelta(module, r, IN, OUT, a, b, scale);
    }

    private static double[] weightedSum(List<LoraAdapter> adapters, List<Double> w, String module) {
        double[] sum = new double[OUT * IN];
        for (int i = 0; i < adapters.size(); i++) {
            double[] d = adapters.get(i).byModule().get(module).dense();
            for (int j = 0; j < sum.length; j++) {
                sum[j] += w.get(i) * d[j];
            }
        }
        return sum;
    }

    /** B·A of a merged adapter times its config's scale. */
    private static double[] product(LoraAdapter a, String module) {
        LoraDelta d = a.byModule().get(module);
        assertEquals(a.config().scale(), d.scale(), 0);
        return d.dense();
    }

    @Test
    void readsPeftLayoutBack() throws IOException {
        LoraAdapter a = adapter("a", 4, 8, 1);
        assertEquals(2.0, a.config().scale());
        assertEquals(List.of(Q, V), a.deltas().stream().map(LoraDelta::module).toList());
        assertTrue(Files.readString(tmp.resolve("a/adapter_config.json")).contains("lora_dropout"));
        try (TensorSource s = ShardedCheckpoint.open(tmp.resolve("a"), Optional.of("adapter_model.safetensors"))) {
            assertEquals(new TensorInfo("base_model.model." + Q + ".lora_A.weight", DType.F32, new long[] {4, IN}),
                    s.find("base_model.model." + Q + ".lora_A.weight").orElseThrow());
        }
    }

    /**
     * The config says alpha 8 at rank 4 (scale 2); q_proj's delta carries 2, v_proj's 0.3, as a caller that builds
     * deltas itself may hand over. Read back, both apply the product they were written with.
     */
    @Test
    void aDeltaWhoseScaleIsNotTheConfigsIsWrittenAsTheSameProduct() throws IOException {
        PeftAdapterConfig config = PeftAdapterConfig.parse("cfg", """
                {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"]}
                """);
        Random random = new Random(11);
        List<LoraDelta> deltas = List.of(delta(Q, 4, random, 2.0), delta(V, 4, random, 0.3));
        new LoraAdapter(config, deltas).write(tmp.resolve("scaled"));

        LoraAdapter read = LoraAdapter.read(tmp.resolve("scaled"));
        assertEquals(8.0, read.config().loraAlpha(), "alpha and r stay as configured");
        assertEquals(4, read.config().r());
        // v_proj's B is rescaled by 0.15 and rounded to float (6e-8 relative); entries of 0.3·B·A are below ~5, so
        // the products differ by under 1e-6 (a scale left at the config's 2 would be off by a factor of 6.7)
        assertArrayEquals(deltas.get(0).dense(), read.byModule().get(Q).dense(), 1e-6);
        assertArrayEquals(deltas.get(1).dense(), read.byModule().get(V).dense(), 1e-6);
        assertArrayEquals(deltas.get(0).b(), read.byModule().get(Q).b(), "a delta at the config's scale keeps its B");
    }

    @Test
    void concatenationIsExactlyTheWeightedSumOfProducts() throws IOException {
        List<LoraAdapter> in = List.of(adapter("a", 4, 8, 1), adapter("b", 2, 4, 2));
        List<Double> w = List.of(0.7, 0.3);
        AdapterMerge.Result r = AdapterMerge.combine(in, w, AdapterMerge.Combination.CONCATENATION, 1, 0, 0);
        assertEquals(6, r.adapter().config().r(), "rank sum");
        for (String m : List.of(Q, V)) {
            // F32 factors with folded weights: relative rounding ~1e-7 per product term, summed over 6 ranks
            assertArrayEquals(weightedSum(in, w, m), product(r.adapter(), m), 1e-4);
        }
        r.adapter().write(tmp.resolve("cat"));
        assertEquals(6, LoraAdapter.read(tmp.resolve("cat")).config().r());
    }

    @Test
    void linearEqualsTheWeightedSumWhenTheTargetRankCoversIt() throws IOException {
        List<LoraAdapter> in = List.of(adapter("a", 4, 8, 3), adapter("b", 4, 16, 4));
        List<Double> w = List.of(0.5, 0.5);
        AdapterMerge.Result full = AdapterMerge.combine(in, w, AdapterMerge.Combination.LINEAR, 1, 8, 5);
        // ΔW has rank ≤ 8, so the rank-8 SVD is exact up to double rounding, then F32 factors (~1e-7 relative)
        assertTrue(full.maxError() < 1e-9, "error " + full.maxError());
        for (String m : List.of(Q, V)) {
            double[] want = weightedSum(in, w, m);
            double[] got = product(full.adapter(), m);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])));
            }
        }
        AdapterMerge.Result low = AdapterMerge.combine(in, w, AdapterMerge.Combination.LINEAR, 1, 4, 5);
        assertEquals(4, low.adapter().config().r());
        assertTrue(low.maxError() > 0.01, "rank 4 cannot hold a rank-8 sum: error " + low.maxError());
    }

    @Test
    void tiesOnAdaptersIsTiesOnTheirDenseProductsRefactorized() throws IOException {
        List<LoraAdapter> in = List.of(adapter("a", 3, 3, 6), adapter("b", 3, 6, 7));
        List<Double> w = List.of(1.0, 1.0);
        AdapterMerge.Result r = AdapterMerge.combine(in, w, AdapterMerge.Combination.TIES, 0.5, Math.min(IN, OUT), 9);
        // reference: the catalog's TIES on the dense products over a zero base
        float[] result = new float[OUT * IN];
        List<TensorView> views = new java.util.ArrayList<>();
        for (LoraAdapter a : in) {
            double[] d = a.byModule().get(Q).dense();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            views.add(TensorView.of(f, "x"));
        }
        TensorParameters p = TensorParameters.of(Map.of("weight", 1.0, "density", 0.5));
        MergeCatalog.STANDARD.find("ties").merge(new TensorMerge(Q, Optional.of(TensorView.of(new float[OUT * IN], "0")),
                views, List.of(p, p), TensorParameters.of(Map.of("lambda", 1.0, "normalize", 1.0)), 9,
                TensorSink.of(result), TensorMerge.DEFAULT_CHUNK));
        double[] got = product(r.adapter(), Q);
        // full-rank (10) SVD of a 10×12 matrix is exact up to rounding; F32 factors give ~1e-6 relative
        assertTrue(r.reconstructionError().get(Q) < 1e-9);
        for (int i = 0; i < got.length; i++) {
            assertEquals(result[i], got[i], 1e-5 * (1 + Math.abs(result[i])));
        }
    }

    @Test
    void materializesAnAdapterIntoItsBase() throws IOException {
        LoraAdapter adapter = adapter("a", 2, 4, 10);
        Path base = tmp.resolve("base");
        Files.createDirectories(base);
        Files.writeString(base.resolve("config.json"), "{\"model_type\": \"llama\"}");
        Files.writeString(base.resolve("tokenizer.json"), "{}");
        Random r = new Random(11);
        Map<String, float[]> weights = new java.util.LinkedHashMap<>();
        weights.put(Q + ".weight", new float[OUT * IN]);
        weights.put(V + ".weight", new float[OUT * IN]);
        weights.put("model.norm.weight", new float[IN]);
        weights.values().forEach(v -> {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
        });
        List<TensorInfo> infos = List.of(new TensorInfo(Q + ".weight", DType.F32, new long[] {OUT, IN}),
                new TensorInfo(V + ".weight", DType.F32, new long[] {OUT, IN}),
                new TensorInfo("model.norm.weight", DType.F32, new long[] {IN}));
        try (CheckpointWriter w = CheckpointWriter.create(base, infos, Map.of(), Long.MAX_VALUE)) {
            for (TensorInfo t : infos) {
                w.write(t.name(), weights.get(t.name()));
            }
            w.commit();
        }
        Path out = tmp.resolve("materialized");
        AdapterMaterializer.materialize(base, adapter, out, Long.MAX_VALUE);
        try (TensorSource s = ShardedCheckpoint.open(out, Optional.empty())) {
            double[] delta = adapter.byModule().get(Q).dense();
            float[] got = s.floats(Q + ".weight");
            for (int i = 0; i < got.length; i++) {
                assertEquals((float) (weights.get(Q + ".weight")[i] + delta[i]), got[i], 0f);
            }
            assertArrayEquals(weights.get("model.norm.weight"), s.floats("model.norm.weight"), 0f);
        }
        assertTrue(Files.exists(out.resolve("config.json")) && Files.exists(out.resolve("tokenizer.json")));
    }

    @Test
    void rejectsWhatItCannotMerge() throws IOException {
        Path dora = tmp.resolve("dora");
        Random random = new Random(3);
        float[] magnitude = new float[OUT];
        java.util.Arrays.fill(magnitude, 1f);
        LoraDelta q = delta(Q, 2, random, 1);
        new LoraDeltas(LoraDeltas.peftConfig("tiny", 2, 2, 0, List.of("q_proj"), true, false), true,
                Map.of(Q, new LoraDeltas.Module(Q, IN, OUT, q.a(), q.b(), magnitude))).write(dora);
        assertTrue(LoraDeltas.read(dora).useDora(), "use_dora is written and read back");
        MalformedFileException d = assertThrows(MalformedFileException.class, () -> LoraAdapter.read(dora));
        assertTrue(d.getMessage().contains("use_dora"), d.getMessage());
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> PeftAdapterConfig.parse("c",
                "{\"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"], \"rank_pattern\": {\"q_proj\": 2}}"));
        assertTrue(e.getMessage().contains("rank_pattern"), e.getMessage());
        LoraAdapter a = adapter("a", 2, 2, 12);
        Path other = tmp.resolve("other-base");
        Files.createDirectories(other);
        try (CheckpointWriter w = CheckpointWriter.create(other,
                List.of(new TensorInfo("model.norm.weight", DType.F32, new long[] {IN})), Map.of(), Long.MAX_VALUE)) {
            w.write("model.norm.weight", new float[IN]);
            w.commit();
        }
        io.emend.core.merge.MergeException m = assertThrows(io.emend.core.merge.MergeException.class,
                () -> AdapterMaterializer.materialize(other, a, tmp.resolve("x"), Long.MAX_VALUE));
        assertTrue(m.getMessage().contains("the base has no tensor"), m.getMessage());
    }
}
