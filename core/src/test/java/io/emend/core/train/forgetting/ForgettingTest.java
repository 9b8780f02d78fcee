package io.emend.core.train.forgetting;

import io.emend.core.delta.LoraDeltas;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingData;
import io.emend.core.train.data.PackedSequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each anti-forgetting option does what it claims, measured on short stories260k runs against plain LoRA. */
class ForgettingTest {

    private static final Path MODEL = Fixtures.model("stories260k");
    private static Tokenizer tokenizer;
    private static Transformer model;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(MODEL);
        model = Transformer.open(MODEL, Optional.empty());
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
    }

    private Path data() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append("{\"text\": \"The quarterly revenue of company ").append(i)
                    .append(" grew by eleven percent in the northern markets.\"}\n");
        }
        return Files.writeString(dir.resolve("d.jsonl"), sb.toString());
    }

    private static FineTuneConfig config(FineTuneConfig.Forgetting f) {
        return new FineTuneConfig(Method.LORA, 4, 8, List.of(), 2e-2, 0, 0, 3, 0, 2, 1, 32, 1.0, 7, 0.2, 0, f);
    }

    private LoraDeltas train(FineTuneConfig c, List<LoraDeltas> priors) throws IOException {
        TrainingData d = TrainingData.load(tokenizer, data(), List.of(), c);
        try (FineTuneJob job = new FineTuneJob(model, d, c, priors)) {
            job.run(Optional.empty(), r -> { });
            return job.adapter("stories260k");
        }
    }

    /** Σ‖s·B·A‖² over modules, in double. */
    private static double squaredChange(LoraDeltas a) {
        double sum = 0;
        double s = a.config().scale();
        for (LoraDeltas.Module m : a.modules().values()) {
            int r = m.rank();
            for (int o = 0; o < m.out(); o++) {
                for (int i = 0; i < m.in(); i++) {
                    double v = 0;
                    for (int k = 0; k < r; k++) {
                        v += m.b()[o * r + k] * m.a()[k * m.in() + i];
                    }
                    sum += s * s * v * v;
                }
            }
        }
        return sum;
    }

    @Test
    void l2spKeepsTheAdaptedWeightsCloserToTheParent() throws IOException {
        double plain = squaredChange(train(config(FineTuneConfig.Forgetting.none()), List.of()));
        double pulled = squaredChange(train(config(new FineTuneConfig.Forgetting(50, 0, false, 0)), List.of()));
        assertTrue(plain > 0);
        assertTrue(pulled < plain, "L2-SP ‖ΔW‖² " + pulled + " vs plain " + plain);
    }

    @Test
    void halfFineTuningLeavesHalfTheModulesExactlyAsTheParent() throws IOException {
        LoraDeltas a = train(config(new FineTuneConfig.Forgetting(0, 0, true, 0)), List.of());
        int untouched = 0;
        for (LoraDeltas.Module m : a.modules().values()) {
            boolean zero = true;
            for (float b : m.b()) {
                zero &= b == 0f;
            }
            untouched += zero ? 1 : 0;
        }
        assertEquals(a.modules().size() / 2, untouched, "35 modules: 17 frozen with B = 0, the rest trained");
    }

    @Test
    void oLoraKeepsTheNewAFactorsOrthogonalToThePriorOnes() throws IOException {
        LoraDeltas prior = train(config(FineTuneConfig.Forgetting.none()), List.of());
        FineTuneConfig second = new FineTuneConfig(Method.LORA, 4, 8, List.of(), 2e-2, 0, 0, 3, 0, 2, 1, 32, 1.0, 8,
                0.2, 0, FineTuneConfig.Forgetting.none());
        FineTuneConfig orthogonal = new FineTuneConfig(Method.LORA, 4, 8, List.of(), 2e-2, 0, 0, 3, 0, 2, 1, 32, 1.0,
                8, 0.2, 0, new FineTuneConfig.Forgetting(0, 0, false, 10));
        double plain = overlap(train(second, List.of(prior)), prior);
        double kept = overlap(train(orthogonal, List.of(prior)), prior);
        assertTrue(kept < plain, "O-LoRA overlap " + kept + " vs plain " + plain);
        assertThrows(IllegalArgumentException.class, () -> train(orthogonal, List.of()));
    }

    /** Σ‖A_new·A_oldᵀ‖² over modules. */
    private static double overlap(LoraDeltas fresh, LoraDeltas old) {
        double sum = 0;
        for (LoraDeltas.Module m : fresh.modules().values()) {
            LoraDeltas.Module o = old.modules().get(m.name());
            for (int i = 0; i < m.rank(); i++) {
                for (int j = 0; j < o.rank(); j++) {
                    double dot = 0;
                    for (int k = 0; k < m.in(); k++) {
                        dot += m.a()[i * m.in() + k] * o.a()[j * m.in() + k];
                    }
                    sum += dot * dot;
                }
            }
        }
        return sum;
    }

    @Test
    void replayMakesUpTheConfiguredShareOfRows() {
        List<PackedSequence> fresh = new ArrayList<>();
        List<PackedSequence> buffer = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            fresh.add(new PackedSequence(new int[] {1, i}, new boolean[] {false, true}));
        }
        for (int i = 0; i < 4; i++) {
            buffer.add(new PackedSequence(new int[] {2, 100 + i}, new boolean[] {false, true}));
        }
        List<PackedSequence> mixed = Replay.mix(fresh, buffer, 0.25, 3);
        assertEquals(40, mixed.size(), "30 new rows + 10 replay rows = 25% replay");
        assertEquals(10, mixed.stream().filter(buffer::contains).count());
        assertEquals(mixed, Replay.mix(fresh, buffer, 0.25, 3), "seeded");
        assertThrows(IllegalArgumentException.class, () -> Replay.mix(fresh, List.of(), 0.25, 3));
    }
}
