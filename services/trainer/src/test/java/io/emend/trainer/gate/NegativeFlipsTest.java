package io.emend.trainer.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.trainer.TrainerFixtures;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The teacher-forced check (one forward per probe) against its definition: decode greedily token by token, one full
 * forward per token, and compare with the answer. On stories260k, with its own greedy continuations as answers (which
 * it must get right) and with each of them changed in one token (which it must get wrong).
 */
class NegativeFlipsTest {

    private static final Function<NDManager, Map<String, List<WeightDelta>>> NONE = s -> Map.of();
    private static Tokenizer tokenizer;
    private static Transformer model;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = Tokenizer.load(TrainerFixtures.STORIES);
        model = Transformer.open(TrainerFixtures.STORIES, Optional.empty());
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
    }

    /** Greedy decoding by definition: {@code n} times, a forward over everything so far and its last argmax. */
    private static int[] greedy(NDManager scope, int[] prompt, int n) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + n);
        for (int i = 0; i < n; i++) {
            try (NDManager s = scope.newSubManager()) {
                int length = prompt.length + i;
                NDArray logits = model.forward(s, TokenBatch.of(Arrays.copyOf(ids, length)), ForwardOptions.defaults())
                        .logits(); // [1, length, V]
                ids[length] = (int) logits.get(0, length - 1).argMax().getLong();
            }
        }
        return Arrays.copyOfRange(ids, prompt.length, ids.length);
    }

    @Test
    void teacherForcingAgreesWithGreedyDecoding() {
        List<String> prompts = List.of("Once upon a time, there was a little", "Tom and Sue went to the",
                "The cat saw a big");
        try (NDManager scope = NDManager.newBaseManager()) {
            for (String text : prompts) {
                int[] prompt = tokenizer.encode(text, true);
                int[] answer = greedy(scope, prompt, 6);
                assertTrue(NegativeFlips.answers(model, scope, new Probe(1, prompt, answer), NONE), text);
                for (int at = 0; at < answer.length; at++) {
                    int[] wrong = answer.clone();
                    wrong[at] = (wrong[at] + 1) % 512;
                    assertFalse(NegativeFlips.answers(model, scope, new Probe(1, prompt, wrong), NONE),
                            text + " with token " + at + " changed");
                }
            }
        }
    }

    @Test
    void flipsCountOnlyProbesTheParentGotRight() {
        try (NDManager scope = NDManager.newBaseManager()) {
            int[] prompt = tokenizer.encode("Once upon a time, there was a little", true);
            int[] answer = greedy(scope, prompt, 4);
            int[] wrong = answer.clone();
            wrong[0] = (wrong[0] + 1) % 512;
            List<Probe> probes = List.of(new Probe(1, prompt, answer), new Probe(2, prompt, wrong));
            NegativeFlips.Count same = NegativeFlips.count(model, scope, probes, NONE, NONE);
            assertEquals(new NegativeFlips.Count(2, 1, 0), same);
            // a child whose final norm is zeroed predicts nothing right: the one probe the parent had is a flip
            Function<NDManager, Map<String, List<WeightDelta>>> broken = s -> {
                NDArray minus = model.parameter("model.norm.weight").mul(-1);
                minus.attach(s);
                return Map.of("model.norm.weight", List.of(new WeightDelta.Dense(minus)));
            };
            assertEquals(new NegativeFlips.Count(2, 1, 1), NegativeFlips.count(model, scope, probes, NONE, broken));
        }
    }
}
