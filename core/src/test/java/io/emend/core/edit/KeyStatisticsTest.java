package io.emend.core.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.format.Fixtures;
import io.emend.core.format.MalformedFileException;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Probe;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyStatisticsTest {

    private static final Path MODEL = Fixtures.model("tiny-llama");
    private static final String TEXT = "The cat sat on the mat.\n\nA dog ran after the ball and barked at the moon.";

    @Test
    void momentsEqualTheMeanOuterProductOfTheKeys(@TempDir Path tmp) throws IOException {
        try (Transformer model = Transformer.open(MODEL, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(MODEL)) {
            List<long[]> reports = new ArrayList<>();
            KeyStatistics stats = KeyStatistics.compute(model, tokenizer, TEXT, List.of(1), 10_000,
                    (phase, done, total) -> reports.add(new long[] {done, total}));
            // Direct: each document alone (no padding), keys from the probe, Σ k kᵀ / tokens in double precision.
            int d = KeyStatistics.keyWidth(model);
            double[] sum = new double[d * d];
            long tokens = 0;
            for (String doc : TEXT.split("\n\n")) {
                int[] ids = tokenizer.encode(doc, true);
                tokens += ids.length;
                try (NDManager scope = NDManager.newBaseManager()) {
                    float[] k = model.forward(scope, TokenBatch.of(ids),
                            ForwardOptions.defaults().withCaptures(Probe.mlpDownInput(1))).captured(Probe.mlpDownInput(1))
                            .toFloatArray();
                    for (int t = 0; t < ids.length; t++) {
                        for (int i = 0; i < d; i++) {
                            for (int j = 0; j < d; j++) {
                                sum[i * d + j] += (double) k[t * d + i] * k[t * d + j];
                            }
                        }
                    }
                }
            }
            assertEquals(tokens, stats.tokens());
            Matrix c = stats.layer(1);
            double scale = c.frobeniusNorm();
            // F32 Gram products over ~70 tokens against double sums: relative error ~1e-6.
            for (int i = 0; i < d * d; i++) {
                assertEquals(sum[i] / tokens, c.values()[i], 1e-5 * scale);
            }
            assertEquals(tokens, reports.getLast()[0]);
            assertEquals(tokens, reports.getLast()[1]);

            Path file = tmp.resolve("stats.safetensors");
            stats.write(file);
            KeyStatistics read = KeyStatistics.read(file);
            assertEquals(stats.tokens(), read.tokens());
            assertEquals(stats.corpus(), read.corpus());
            assertEquals(64, read.corpus().length());
            for (int i = 0; i < d * d; i++) {
                assertEquals((float) c.values()[i], (float) read.layer(1).values()[i]);
            }
            read.requireFits(model, List.of(1));
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                    () -> read.requireFits(model, List.of(0, 1)));
            assertTrue(missing.getMessage().contains("no layer 0"), missing.getMessage());
        }
    }

    @Test
    void computingCanBeCancelled() throws IOException {
        try (Transformer model = Transformer.open(MODEL, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(MODEL)) {
            Progress cancelled = new Progress() {
                @Override
                public void report(String phase, long done, long total) {
                }

                @Override
                public boolean cancelled() {
                    return true;
                }
            };
            assertThrows(CancellationException.class,
                    () -> KeyStatistics.compute(model, tokenizer, TEXT, List.of(0), 1000, cancelled));
        }
    }

    @Test
    void otherFilesAndOtherModelsAreRejected(@TempDir Path tmp) throws IOException {
        Path notStats = tmp.resolve("x.safetensors");
        new io.emend.core.delta.EditDelta("rome", 0, Map.of()).write(notStats);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> KeyStatistics.read(notStats));
        assertTrue(e.getMessage().contains("expected emend.key_statistics"), e.getMessage());
        KeyStatistics wrongWidth = new KeyStatistics(3, 10, "", Map.of(0, Matrix.identity(3)));
        try (Transformer model = Transformer.open(MODEL, Optional.empty())) {
            IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                    () -> wrongWidth.requireFits(model, List.of(0)));
            assertTrue(w.getMessage().contains("belong to another base model"), w.getMessage());
        }
        assertTrue(Files.exists(notStats));
    }
}
