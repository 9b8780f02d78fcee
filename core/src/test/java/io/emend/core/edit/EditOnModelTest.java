package io.emend.core.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.edit.alphaedit.AlphaEditParams;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.edit.memit.MemitEditor;
import io.emend.core.edit.memit.MemitParams;
import io.emend.core.edit.rome.RomeEditor;
import io.emend.core.edit.rome.RomeParams;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Edits on the real stories260k model, with key statistics from 2,000 tokens of its own validation text.
 */
class EditOnModelTest {

    private static final Path STORIES = Fixtures.model("stories260k");
    private static final EditRequest LILY = new EditRequest("Lily liked to eat", "Lily", "rocks", Optional.of("cake"),
            Optional.empty(), Optional.of("Tom liked to eat"), Optional.of("cake"));
    private static final String UNRELATED = "The sun was hot and the birds";

    private static Transformer model;
    private static Tokenizer tokenizer;
    private static KeyStatistics stats;
    private static List<PreparedEdit> lily;

    @BeforeAll
    static void load() throws IOException {
        model = Transformer.open(STORIES, Optional.empty());
        tokenizer = Tokenizer.load(STORIES);
        String text = Files.readString(STORIES.resolve("tinystories-valid.txt"));
        stats = KeyStatistics.compute(model, tokenizer, text, List.of(1, 2), 2000, Progress.NONE);
        lily = PreparedEdit.prepare(List.of(LILY), tokenizer, model, PreparedEdit.prefixes(model, tokenizer, 2, 10, 0),
                10);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    private static TargetOptions target(double clamp) {
        return new TargetOptions(20, 0.5, 0.0625, 1e-3, clamp, 0.05, 2, 10);
    }

    @Test
    void romeFlipsTheTarget() {
        EditDelta delta = new RomeEditor(new RomeParams(1, target(4))).edit(model, EditDelta.empty("rome"), lily, stats,
                Progress.NONE);
        assertEquals(1, delta.factors().get("model.layers.1.mlp.down_proj.weight").rank());
        assertFlipsAndSparesUnrelatedPrompts(delta, List.of("Once upon a time, there was a"));
    }

    @Test
    void memitFlipsTheTargetAndSparesUnrelatedPrompts() {
        EditDelta delta = new MemitEditor(new MemitParams(List.of(1, 2), 17.2, target(0.75))).edit(model,
                EditDelta.empty("memit"), lily, stats, Progress.NONE);
        assertFlipsAndSparesUnrelatedPrompts(delta, List.of(UNRELATED, "Once upon a time, there was a"));
    }

    /**
     * The edited prompt now prefers the new target, and each unrelated prompt's next-token distribution moves by a
     * total variation distance below 0.05 and below a quarter of the edited prompt's own move (which flips its
     * answer, so it is large). The unrelated prompts share no subject token; they meet the update only through their keys'
     * component along the edit's key direction, which the update keeps small for ordinary text. stories260k's
     * 64-wide residual stream shares directions among all tokens, so it leaks more than large models: ROME (clamp 4)
     * moves "The sun was hot and the birds" by 0.105; MEMIT moves it by 0.045 against 0.22 for the edited prompt
     * (statistics from 2,000 tokens), "Once upon a time, there was a" by about 0.01 for both methods.
     */
    private static void assertFlipsAndSparesUnrelatedPrompts(EditDelta delta, List<String> unrelated) {
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardOptions edited = delta.applyTo(ForwardOptions.defaults(), scope);
            CounterFactScores scores = CounterFactScores.measure(model, tokenizer, List.of(LILY),
                    ForwardOptions.defaults(), edited);
            CounterFactScores.EditScore s = scores.edits().getFirst();
            assertTrue(!s.efficacyBefore().orElseThrow().success(), "before the edit the model prefers cake");
            assertTrue(s.efficacyAfter().orElseThrow().success(), "after it, rocks: " + s.efficacyAfter());
            double own = totalVariation(LILY.prompt(), edited, scope);
            for (String prompt : unrelated) {
                double tv = totalVariation(prompt, edited, scope);
                assertTrue(tv < 0.05 && tv < own / 4, prompt + ": total variation " + tv + ", edited prompt " + own);
            }
        }
    }

    private static double totalVariation(String prompt, ForwardOptions edited, NDManager scope) {
        float[] before = nextToken(prompt, ForwardOptions.defaults(), scope);
        float[] after = nextToken(prompt, edited, scope);
        double tv = 0;
        for (int i = 0; i < before.length; i++) {
            tv += Math.abs(Math.exp(before[i]) - Math.exp(after[i])) / 2;
        }
        return tv;
    }

    private static float[] nextToken(String prompt, ForwardOptions options, NDManager scope) {
        TokenBatch batch = TokenBatch.of(tokenizer.encode(prompt, true));
        return model.forward(scope, batch, options.withLogits(LogitsScope.LAST)).logits().logSoftmax(-1)
                .toFloatArray();
    }

    @Test
    void memitWithOneEditWritesAlongRomesDirection() {
        EditDelta rome = new RomeEditor(new RomeParams(1, target(0.75))).edit(model, EditDelta.empty("rome"), lily,
                stats, Progress.NONE);
        EditDelta memit = new MemitEditor(new MemitParams(List.of(1), 17.2, target(0.75))).edit(model,
                EditDelta.empty("memit"), lily, stats, Progress.NONE);
        String w = model.mlpDownProjection(1);
        // Same keys (same prefixes, same layer), so V ∝ C⁻¹k* for both (Sherman–Morrison); the F32 factors agree in
        // direction to ~1e-6.
        assertEquals(1.0, cosine(rome.factors().get(w).v(), memit.factors().get(w).v()), 1e-4);
    }

    /**
     * The bench finds MEMIT's targets once and spreads them at several λ: spreading found targets must give the edit's
     * own factors, and a heavier covariance weight must write less of the same targets at the first layer (‖ΔW‖ falls
     * as λ grows: the least-squares update is {@code R Kᵀ (λC + K Kᵀ)⁻¹}).
     */
    @Test
    void memitTargetsFoundOnceSpreadAsTheEditDoes() {
        MemitEditor editor = new MemitEditor(new MemitParams(List.of(1, 2), 17.2, target(0.75)));
        EditDelta whole = editor.edit(model, EditDelta.empty("memit"), lily, stats, Progress.NONE);
        List<TargetValue> targets = editor.targets(model, EditDelta.empty("memit"), lily, Progress.NONE);
        EditDelta spread = editor.spread(model, EditDelta.empty("memit"), lily, targets, stats, Progress.NONE);
        EditDelta heavier = new MemitEditor(new MemitParams(List.of(1, 2), 172, target(0.75))).spread(model,
                EditDelta.empty("memit"), lily, targets, stats, Progress.NONE);
        for (int layer : List.of(1, 2)) {
            String w = model.mlpDownProjection(layer);
            float[] a = whole.factors().get(w).dense();
            float[] b = spread.factors().get(w).dense();
            // The same single-threaded computation twice: the target search and the solve are deterministic, so the
            // factors agree to F32 rounding of identical sums.
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-6 * (1 + Math.abs(a[i])), "layer " + layer + " entry " + i);
            }
        }
        // At the first layer both spread the same residual share; later layers get what earlier ones left, which
        // differs between the two.
        String first = model.mlpDownProjection(1);
        double light = norm(spread.factors().get(first).dense());
        double heavy = norm(heavier.factors().get(first).dense());
        assertTrue(heavy < light, "λ 172 wrote " + heavy + ", λ 17.2 " + light);
    }

    private static double norm(float[] x) {
        double s = 0;
        for (float f : x) {
            s += (double) f * f;
        }
        return Math.sqrt(s);
    }

    @Test
    void alphaEditWritesOnlyIntoTheNullSpaceOfThePreservedKeys() {
        AlphaEditor editor = new AlphaEditor(new AlphaEditParams(new MemitParams(List.of(1, 2), 0, target(0.75)),
                0.05, 1e-2, 1));
        EditDelta delta = editor.edit(model, EditDelta.empty("alphaedit"), lily, stats, Progress.NONE);
        for (int layer : List.of(1, 2)) {
            EditDelta.Factors f = delta.factors().get(model.mlpDownProjection(layer));
            Matrix dw = new Matrix(f.out(), f.in(), toDouble(f.dense()));
            Matrix c = stats.layer(layer);
            // Mean squared change over the statistics' keys is tr(ΔW C ΔWᵀ). ΔW = ΔW P, so it is at most ‖ΔW‖_F² times
            // the largest null-space eigenvalue, itself below 5% of C's trace by construction; a MEMIT-like update
            // spread over all directions would see ‖ΔW‖_F² · tr(C)/d on average, and the top directions far more.
            double disturbance = dw.times(c).times(dw.transpose()).meanDiagonal() * f.out();
            double norm2 = Math.pow(dw.frobeniusNorm(), 2);
            Matrix p = editor.rule(stats).projector(layer);
            double nullTop = p.times(c).times(p).symmetricEigen().eigenvalues()[c.rows() - 1];
            assertTrue(disturbance <= norm2 * nullTop * (1 + 1e-3), "layer " + layer + ": " + disturbance + " > "
                    + norm2 * nullTop);
            assertTrue(nullTop < 0.05 * c.meanDiagonal() * c.rows());
        }
        try (NDManager scope = NDManager.newBaseManager()) {
            CounterFactScores s = CounterFactScores.measure(model, tokenizer, List.of(LILY), ForwardOptions.defaults(),
                    delta.applyTo(ForwardOptions.defaults(), scope));
            CounterFactScores.EditScore e = s.edits().getFirst();
            assertTrue(e.efficacyAfter().orElseThrow().preferred() > e.efficacyBefore().orElseThrow().preferred() + 0.1,
                    "the null-space edit still raises the target: " + e.efficacyBefore() + " -> "
                            + e.efficacyAfter());
        }
    }

    @Test
    void factorsServedAsADeltaGiveTheLogitsOfTheMaterializedModel(@TempDir Path tmp) throws IOException {
        for (String fixture : List.of("stories260k", "tiny-gpt2")) {
            Path base = Fixtures.model(fixture);
            Path out = tmp.resolve(fixture);
            int[] ids;
            try (Tokenizer t = Tokenizer.load(base)) {
                ids = t.encode("Once upon a time there was a fox", true);
            }
            float[] served;
            EditDelta delta;
            try (Transformer m = Transformer.open(base, Optional.empty()); NDManager scope = NDManager.newBaseManager()) {
                delta = randomDelta(m, 3, new SplittableRandom(9));
                served = m.forward(scope, TokenBatch.of(ids), delta.applyTo(ForwardOptions.defaults(), scope))
                        .logits().toFloatArray();
            }
            EditDeltaCheckpoint.materialize(delta, base, out);
            assertTrue(Files.exists(out.resolve("tokenizer.json")) && Files.exists(out.resolve("config.json")));
            try (Transformer m = Transformer.open(out, Optional.empty()); NDManager scope = NDManager.newBaseManager()) {
                float[] materialized = m.logits(scope, TokenBatch.of(ids)).toFloatArray();
                // Same sums in another order (x·W + (x·V)·Uᵀ against x·(W + V Uᵀ)), F32: ~1e-6.
                for (int i = 0; i < served.length; i++) {
                    assertEquals(served[i], materialized[i], 1e-4, fixture + " logit " + i);
                }
            }
        }
    }

    /** Factors of a visible size (‖ΔW‖ comparable to ‖W‖) on two layers' down-projections. */
    static EditDelta randomDelta(Transformer m, int rank, SplittableRandom rng) {
        java.util.LinkedHashMap<String, EditDelta.Factors> f = new java.util.LinkedHashMap<>();
        for (int layer : List.of(0, 1)) {
            DownProjection d = DownProjection.of(m, layer);
            float[] u = new float[d.out() * rank];
            float[] v = new float[d.in() * rank];
            for (int i = 0; i < u.length; i++) {
                u[i] = (float) rng.nextGaussian() * 0.3f;
            }
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) rng.nextGaussian() * 0.3f;
            }
            f.put(d.name(), new EditDelta.Factors(d.out(), d.in(), rank, u, v));
        }
        return new EditDelta("test", rank, Map.copyOf(f));
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    private static double cosine(float[] a, float[] b) {
        return ClosedFormTest.cosine(toDouble(a), toDouble(b));
    }
}
