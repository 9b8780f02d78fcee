package io.emend.core.edit.alphaedit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Matrix;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.TargetOptions;
import io.emend.core.edit.memit.MemitParams;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
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
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AlphaEdit continued by a second job, as the editor service runs it: the first job's written keys and the base's
 * projectors go through their files, and a fresh editor built from them continues. Against a fresh editor without the
 * keys, the second job's update must leave the first job's keys (nearly) where they were.
 */
class AlphaEditAcrossJobsTest {

    private static final Path STORIES = Fixtures.model("stories260k");
    private static final EditRequest LILY = new EditRequest("Lily liked to eat", "Lily", "rocks", Optional.of("cake"),
            Optional.empty(), Optional.empty(), Optional.empty());
    private static final EditRequest TOM = new EditRequest("Tom liked to play with his", "Tom", "rocks",
            Optional.of("toys"), Optional.empty(), Optional.empty(), Optional.empty());
    private static final List<Integer> LAYERS = List.of(1, 2);

    private static Transformer model;
    private static Tokenizer tokenizer;
    private static KeyStatistics stats;
    private static List<String> prefixes;

    @BeforeAll
    static void load() throws IOException {
        model = Transformer.open(STORIES, Optional.empty());
        tokenizer = Tokenizer.load(STORIES);
        String text = Files.readString(STORIES.resolve("tinystories-valid.txt"));
        stats = KeyStatistics.compute(model, tokenizer, text, LAYERS, 2000, Progress.NONE);
        prefixes = PreparedEdit.prefixes(model, tokenizer, 2, 10, 0);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    private static AlphaEditParams params() {
        return new AlphaEditParams(new MemitParams(LAYERS, 0, new TargetOptions(20, 0.5, 0.0625, 1e-3, 0.75, 0.05, 2,
                10)), 0.05, 1e-2, 100);
    }

    private static List<PreparedEdit> prepared(EditRequest r) {
        return PreparedEdit.prepare(List.of(r), tokenizer, model, prefixes, 10);
    }

    /** {@code tr(ΔW G ΔWᵀ) = ‖ΔW K‖²_F} for {@code G = K Kᵀ}: how far the update moves the keys G holds. */
    private static double moved(EditDelta delta, WrittenKeys keys) {
        double sum = 0;
        for (int layer : LAYERS) {
            EditDelta.Factors f = delta.factors().get(model.mlpDownProjection(layer));
            float[] dense = f.dense();
            double[] d = new double[dense.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = dense[i];
            }
            Matrix dw = new Matrix(f.out(), f.in(), d);
            sum += dw.times(keys.grams().get(layer)).times(dw.transpose()).meanDiagonal() * f.out();
        }
        return sum;
    }

    private static CounterFactScores.Comparison lilyAfter(EditDelta delta) {
        try (NDManager scope = NDManager.newBaseManager()) {
            return CounterFactScores.measure(model, tokenizer, List.of(LILY), ForwardOptions.defaults(),
                    delta.applyTo(ForwardOptions.defaults(), scope)).edits().getFirst().efficacyAfter().orElseThrow();
        }
    }

    @Test
    void aSecondJobWithTheStoredKeysLeavesTheFirstJobsEditsAlone(@TempDir Path tmp) throws IOException {
        NullSpaceProjectors projectors = NullSpaceProjectors.compute(stats, params().nullSpaceEnergy(), LAYERS,
                Progress.NONE);
        projectors.write(tmp.resolve(NullSpaceProjectors.FILE_NAME));
        NullSpaceProjectors stored = NullSpaceProjectors.read(tmp.resolve(NullSpaceProjectors.FILE_NAME));
        assertEquals(projectors.energy(), stored.energy());
        for (int layer : LAYERS) {
            assertArrayEquals(projectors.layers().get(layer).values(), stored.layers().get(layer).values(), 0,
                    "P is stored in the F32 it was rounded to: bit for bit");
        }

        AlphaEditor first = new AlphaEditor(params(), WrittenKeys.none(), Optional.of(stored));
        EditDelta job1 = first.edit(model, EditDelta.empty("alphaedit"), prepared(LILY), stats, Progress.NONE);
        assertTrue(lilyAfter(job1).success(), "the first job flips Lily: " + lilyAfter(job1));
        first.writtenKeys().write(tmp.resolve(WrittenKeys.FILE_NAME));
        WrittenKeys keys = WrittenKeys.read(tmp.resolve(WrittenKeys.FILE_NAME));
        assertEquals(1, keys.edits());
        assertEquals(LAYERS, List.copyOf(keys.grams().keySet()));

        EditDelta protectedJob = new AlphaEditor(params(), keys, Optional.of(stored)).edit(model, job1, prepared(TOM),
                stats, Progress.NONE);
        EditDelta unprotectedJob = new AlphaEditor(params(), WrittenKeys.none(), Optional.of(stored)).edit(model, job1,
                prepared(TOM), stats, Progress.NONE);
        double kept = moved(protectedJob, keys);
        double drifted = moved(unprotectedJob, keys);
        // With K_p in the system the second update is solved to keep ΔW k ≈ 0 on the first job's keys, up to the ridge
        // α; without it, only the null-space projection separates them, and Tom's and Lily's keys share many of the
        // 172 directions. A factor of 10 is far inside what the exact solve gives and far above noise.
        assertTrue(kept * 10 < drifted, "the first job's keys moved " + kept + " with the stored keys, " + drifted
                + " without");
        CounterFactScores.Comparison after = lilyAfter(job1.plus(protectedJob));
        assertTrue(after.success(), "Lily still says rocks after the second job: " + after);
        // The margin itself moves a little either way (0.255 to 0.278 with the keys, to 0.239 without, on this
        // fixture): the prompt's other tokens have keys too, which neither job protects, so only the flip is asserted.
    }
}
