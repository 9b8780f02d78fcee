package io.emend.core.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogProbabilityTest {

    private static Transformer model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        model = Transformer.open(Fixtures.model("stories260k"), Optional.empty());
        tokenizer = Tokenizer.load(Fixtures.model("stories260k"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    /**
     * Per-token scores equal the log-softmax of the full forward's logits at the preceding position, computed in
     * double in Java; 1e-5 covers the float32 log-softmax in the graph.
     */
    @Test
    void perTokenScoresAreTheModelsNextTokenLogProbabilities() {
        int[] prompt = tokenizer.encode("Once upon a time, there was a little girl named", true);
        // The SentencePiece normalizer prepends "▁" itself, so continuations are encoded without a leading space.
        int[] lily = tokenizer.encode("Lily", false);
        int[] car = tokenizer.encode("car engine", false);
        ContinuationScore s = LogProbability.of(model, prompt, car, ForwardOptions.defaults());
        int[] joined = new int[prompt.length + car.length];
        System.arraycopy(prompt, 0, joined, 0, prompt.length);
        System.arraycopy(car, 0, joined, prompt.length, car.length);
        try (NDManager scope = NDManager.newBaseManager()) {
            float[] logits = model.logits(scope, TokenBatch.of(joined)).toFloatArray();
            int vocab = model.config().vocabSize();
            double sum = 0;
            for (int i = 0; i < car.length; i++) {
                double expected = PerplexityTest.logSoftmax(logits, (prompt.length - 1 + i) * vocab, vocab, car[i]);
                assertEquals(expected, s.perToken()[i], 1e-5, "token " + i);
                sum += expected;
            }
            assertEquals(sum, s.sum(), 1e-4);
        }
        ContinuationScore likely = LogProbability.of(model, prompt, lily, ForwardOptions.defaults());
        assertTrue(likely.mean() > s.mean(), "the trained model prefers 'Lily' after 'a little girl named'");

        // A batch of pairs of different lengths gives each pair's single score.
        List<ContinuationScore> batch = LogProbability.of(model, List.of(prompt, new int[] {1}),
                List.of(car, lily), ForwardOptions.defaults());
        assertEquals(s.sum(), batch.get(0).sum(), 1e-4);
        assertEquals(LogProbability.of(model, new int[] {1}, lily, ForwardOptions.defaults()).sum(),
                batch.get(1).sum(), 1e-4);
    }

    @Test
    void scoresSeeTheDeltas() {
        int[] prompt = tokenizer.encode("Once upon a time", true);
        int[] target = tokenizer.encode(", there was", false);
        String down = model.mlpDownProjection(2);
        Shape shape = model.parameter(down).getShape();
        try (NDManager m = NDManager.newBaseManager()) {
            WeightDelta delta = new WeightDelta.Dense(m.randomNormal(0, 0.5f, shape, ai.djl.ndarray.types.DataType.FLOAT32));
            double plain = LogProbability.of(model, prompt, target, ForwardOptions.defaults()).sum();
            double edited = LogProbability.of(model, prompt, target, ForwardOptions.defaults().withDelta(down, delta))
                    .sum();
            assertTrue(Math.abs(plain - edited) > 1e-3, "plain " + plain + " vs edited " + edited);
        }
    }

    @Test
    void badPairsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> LogProbability.of(model, List.of(new int[] {1}),
                List.of(), ForwardOptions.defaults()));
        assertThrows(IllegalArgumentException.class, () -> LogProbability.of(model, new int[] {1}, new int[0],
                ForwardOptions.defaults()));
        assertThrows(IllegalArgumentException.class, () -> LogProbability.of(model, new int[500], new int[20],
                ForwardOptions.defaults()));
    }
}
