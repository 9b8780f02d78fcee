package io.emend.editor.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.Progress;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The editor's edit step on the real stories260k model, statistics from 2,000 tokens of its validation text. */
class EditComputationTest {

    static final Path STORIES = Path.of(System.getProperty("emend.fixtures", "../../../shared/fixtures"))
            .resolve("stories260k");
    static final EditRequest LILY = new EditRequest("Lily liked to eat", "Lily", "rocks", Optional.of("cake"),
            Optional.of("Lily wanted to eat"), Optional.of("Tom liked to eat"), Optional.of("cake"));
    static final EditRequest MAX = new EditRequest("Max was a little", "Max", "cat", Optional.of("dog"),
            Optional.empty(), Optional.empty(), Optional.empty());

    private static Transformer model;
    private static Tokenizer tokenizer;
    private static EditComputation computation;
    private static String heldOut;

    @BeforeAll
    static void load() throws IOException {
        model = Transformer.open(STORIES, Optional.empty());
        tokenizer = Tokenizer.load(STORIES);
        String text = Files.readString(STORIES.resolve("tinystories-valid.txt"));
        heldOut = text.substring(text.length() - 5_000);
        KeyStatistics stats = KeyStatistics.compute(model, tokenizer, text, List.of(0, 1, 2, 3, 4), 2000,
                Progress.NONE);
        computation = new EditComputation(model, tokenizer, stats);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    @Test
    void memitFlipsTheTargetAndMeasuresAgainstTheParent() {
        EditComputation.Output out = computation.run(input(EditDelta.empty("memit"), List.of(), List.of(LILY)),
                Progress.NONE);
        assertEquals(0.0, out.scores().efficacyBefore(), "stories260k prefers cake before the edit");
        assertEquals(1.0, out.scores().efficacy());
        assertEquals(1.0, out.efficacies()[0]);
        assertEquals(List.of(1, 2), out.layers());
        assertEquals(1, out.delta().edits());
        assertTrue(Double.isFinite(out.scores().perplexityChange()), "held-out text was scored");
    }

    @Test
    void aSecondEditKeepsThePriorFactorsAndReMeasuresThePriorEdits() {
        EditComputation.Output first = computation.run(input(EditDelta.empty("memit"), List.of(), List.of(LILY)),
                Progress.NONE);
        EditComputation.Output second = computation.run(input(first.delta(), List.of(LILY), List.of(MAX)),
                Progress.NONE);
        assertEquals(2, second.delta().edits());
        String w = model.mlpDownProjection(1);
        EditDelta.Factors before = first.delta().factors().get(w);
        EditDelta.Factors after = second.delta().factors().get(w);
        assertEquals(before.rank() + 1, after.rank());
        for (int row = 0; row < before.out(); row++) {
            assertEquals(before.u()[row * before.rank()], after.u()[row * after.rank()], 0.0,
                    "the parent's factor columns come first, unchanged");
        }
        assertEquals(1.0, second.efficacies()[0], "Max is now a cat");
        // Lily's edit re-measured on the result, independently of the computation's own bookkeeping
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardOptions edited = second.delta().applyTo(ForwardOptions.defaults(), scope);
            double direct = EditComputation.efficacyOf(CounterFactScores.measure(model, tokenizer, List.of(LILY),
                    edited, edited).edits().getFirst());
            assertEquals(direct, second.priorEfficacies()[0]);
        }
    }

    @Test
    void withNoRequestsTheResultIsThePriorDeltaAndItsFileRoundTrips(@TempDir Path tmp) throws IOException {
        // a rollback of a version's only edit: nothing to compute, the base comes back
        EditComputation.Output out = computation.run(input(EditDelta.empty("memit"), List.of(), List.of()),
                Progress.NONE);
        assertEquals(0, out.delta().edits());
        assertTrue(out.delta().factors().isEmpty());
        assertEquals(0.0, out.scores().perplexityChange(), 1e-12, "the base scores as itself");
        assertTrue(Double.isNaN(out.scores().efficacy()));
        Path file = tmp.resolve(EditDelta.FILE_NAME);
        out.delta().write(file);
        assertEquals(0, EditDelta.read(file).edits());
    }

    @Test
    void alphaEditRunsInTheRequestedBatchesAndRaisesTheTargets() {
        EditComputation.Input in = new EditComputation.Input(EditDelta.empty("alphaedit"), List.of(),
                List.of(LILY, MAX), EditMethod.ALPHAEDIT, new EditOptions(Optional.empty(), 0, 1), 2, 1,
                Optional.empty());
        EditComputation.Output out = computation.run(in, Progress.NONE);
        assertEquals(2, out.delta().edits());
        assertEquals(2, out.delta().factors().get(model.mlpDownProjection(1)).rank(), "one column per edit");
        // AlphaEdit writes only where the preserved keys are quiet, so it need not flip stories260k's facts (core's
        // EditOnModelTest); it must still move each target's log-probability up
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardOptions edited = out.delta().applyTo(ForwardOptions.defaults(), scope);
            for (CounterFactScores.EditScore s : CounterFactScores.measure(model, tokenizer, List.of(LILY, MAX),
                    ForwardOptions.defaults(), edited).edits()) {
                assertTrue(s.efficacyAfter().orElseThrow().preferred() > s.efficacyBefore().orElseThrow().preferred(),
                        s.toString());
            }
        }
    }

    @Test
    void cancellingStopsBetweenSteps() {
        Progress cancelled = new Progress() {
            @Override
            public void report(String phase, long done, long total) {
            }

            @Override
            public boolean cancelled() {
                return true;
            }
        };
        assertThrows(CancellationException.class, () -> computation.run(input(EditDelta.empty("memit"), List.of(),
                List.of(LILY)), cancelled));
    }

    @Test
    void checksLayersTargetsAndContextBeforeAJobIsQueued() {
        EditOptions defaults = EditOptions.defaults();
        EditComputation.checkFits(List.of(LILY), EditMethod.MEMIT, defaults, model.config(), tokenizer, 5);
        InvalidSubmission layer = assertThrows(InvalidSubmission.class, () -> EditComputation.checkFits(List.of(LILY),
                EditMethod.MEMIT, new EditOptions(Optional.of(List.of(7)), 0, 1), model.config(), tokenizer, 5));
        assertEquals("options.layers", layer.field());
        String longPrompt = "Lily " + "and the dog ran ".repeat(200) + "to eat";
        InvalidSubmission context = assertThrows(InvalidSubmission.class, () -> EditComputation.checkFits(
                List.of(EditRequest.of(longPrompt, "Lily", "rocks")), EditMethod.ROME, defaults, model.config(),
                tokenizer, 5));
        assertEquals("requests[0].prompt", context.field());
        assertTrue(context.getMessage().contains("longer than the model's context of 512"), context.getMessage());
    }

    private static EditComputation.Input input(EditDelta prior, List<EditRequest> priorRequests,
                                               List<EditRequest> requests) {
        return new EditComputation.Input(prior, priorRequests, requests, EditMethod.MEMIT, EditOptions.defaults(), 2,
                2, Optional.of(heldOut));
    }
}
