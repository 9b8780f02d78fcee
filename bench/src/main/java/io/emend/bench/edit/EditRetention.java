package io.emend.bench.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.ServedDelta;
import io.emend.core.edit.SubjectPrompt;
import io.emend.core.infer.Adapter;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.plan.MergeProgress;
import io.emend.core.merge.recipe.RecipeParser;
import io.emend.core.quant.WeightFormat;
import io.emend.core.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether edits survive what happens to a version after it is edited, scored on the quantized inference engine
 * ({@code core.infer}), the path serving runs: efficacy, paraphrase and neighborhood (as {@code CounterFactScores}
 * defines them: mean per-token log-probability of the candidates as continuations) of
 * <ul>
 *   <li>the materialized edited model in F32, Q8_0 and Q4_0 (every projection quantized);</li>
 *   <li>the unchanged base quantized with the edit factors served as a low-rank delta on top (serving's way);</li>
 *   <li>a merge of the edited model with another full fine-tune of the same base (task arithmetic, weights 1 and 1:
 *       both task vectors added; and a linear soup at 0.5 each, which halves each task vector), beside that other
 *       fine-tune on its own, the reference for the merges' neighborhood.</li>
 * </ul>
 * Retention is each score over the same score of the F32 edited model.
 */
final class EditRetention {

    private EditRetention() {
    }

    /** Scores of a set of requests on one model. */
    record Scores(double efficacy, double paraphrase, double neighborhood) {
    }

    static void report(String method, Path base, Path edited, EditDelta delta, List<EditRequest> requests,
                       Path other, Path work, Tokenizer tokenizer, PrintStream out) throws IOException {
        long started = System.nanoTime();
        int threads = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        out.printf("%nretention of %d %s edits (engine: core.infer, %d threads)%n", requests.size(), method, threads);
        out.println("| model | efficacy | paraphrase | neighborhood | efficacy retained |");
        out.println("|---|---|---|---|---|");
        Scores reference = null;
        for (WeightFormat f : List.of(WeightFormat.F32, WeightFormat.Q8_0, WeightFormat.Q4_0)) {
            try (Decoder d = Decoder.load(edited, Optional.empty(), QuantRule.uniform(f), threads)) {
                Scores s = score(d, null, tokenizer, requests);
                if (reference == null) {
                    reference = s;
                }
                row(out, "materialized, " + f, s, reference);
            }
        }
        for (WeightFormat f : List.of(WeightFormat.Q8_0, WeightFormat.Q4_0)) {
            try (Decoder d = Decoder.load(base, Optional.empty(), QuantRule.uniform(f), threads)) {
                row(out, "base " + f + " + edit factors as delta", score(d, ServedDelta.adapter(method, delta), tokenizer, requests),
                        reference);
                if (f == WeightFormat.Q8_0) {
                    row(out, "base " + f + " without the edit", score(d, null, tokenizer, requests), reference);
                }
            }
        }
        // Task arithmetic of the unedited model with the partner is the partner itself: its row is the neighborhood
        // the merge would have without any edit, so the merge rows' drop can be told apart from the partner's own.
        try (Decoder d = Decoder.load(other, Optional.empty(), QuantRule.uniform(WeightFormat.F32), threads)) {
            row(out, "the other fine-tune alone (= task arithmetic of the unedited model with it), F32",
                    score(d, null, tokenizer, requests), reference);
        }
        for (String recipe : List.of(
                "merge_method: task_arithmetic\nbase_model: base\nmodels: [{model: edited, parameters: {weight: 1}}, "
                        + "{model: other, parameters: {weight: 1}}]\ntokenizer_source: base\n",
                "merge_method: linear\nmodels: [{model: edited, parameters: {weight: 0.5}}, "
                        + "{model: other, parameters: {weight: 0.5}}]\ntokenizer_source: base\n")) {
            Path merged = work.resolve("merged-" + method + "-" + requests.size());
            FactModelBench.deleteTree(merged);
            Path file = Files.createTempFile(work, "recipe", ".yml");
            Files.writeString(file, recipe);
            Map<String, Path> refs = Map.of("base", base, "edited", edited, "other", other);
            try (MergePlan plan = MergePlan.create(RecipeParser.read(file), refs::get)) {
                MergeExecutor.run(plan, merged, MergeExecutor.Options.defaults(), MergeProgress.NONE);
            } finally {
                Files.delete(file);
            }
            String name = recipe.startsWith("merge_method: task_arithmetic") ? "task arithmetic (1, 1)"
                    : "linear (0.5, 0.5)";
            try (Decoder d = Decoder.load(merged, Optional.empty(), QuantRule.uniform(WeightFormat.F32),
                    threads)) {
                row(out, "merged with another fine-tune, " + name + ", F32", score(d, null, tokenizer, requests),
                        reference);
            }
        }
        out.printf("(retention checks took %.0f s, load %s)%n", (System.nanoTime() - started) / 1e9,
                FactModelBench.load());
    }

    private static void row(PrintStream out, String name, Scores s, Scores reference) {
        out.printf("| %s | %.3f | %.3f | %.3f | %.1f%% |%n", name, s.efficacy(), s.paraphrase(), s.neighborhood(),
                100 * s.efficacy() / reference.efficacy());
    }

    /** Efficacy, paraphrase and neighborhood of the requests on one engine model. */
    static Scores score(Decoder d, Adapter adapter, Tokenizer tokenizer, List<EditRequest> requests) {
        int efficacy = 0;
        int paraphrase = 0;
        int paraphrased = 0;
        int neighborhood = 0;
        int neighbors = 0;
        for (EditRequest r : requests) {
            String prompt = r.filledPrompt();
            String truth = r.groundTruth().orElseThrow();
            if (logProb(d, adapter, tokenizer, prompt, r.targetNew()) > logProb(d, adapter, tokenizer, prompt, truth)) {
                efficacy++;
            }
            if (r.filledRephrase().isPresent()) {
                String p = r.filledRephrase().get();
                paraphrased++;
                if (logProb(d, adapter, tokenizer, p, r.targetNew()) > logProb(d, adapter, tokenizer, p, truth)) {
                    paraphrase++;
                }
            }
            if (r.localityPrompt().isPresent()) {
                String p = r.localityPrompt().get();
                neighbors++;
                if (logProb(d, adapter, tokenizer, p, r.localityGroundTruth().orElseThrow())
                        > logProb(d, adapter, tokenizer, p, r.targetNew())) {
                    neighborhood++;
                }
            }
        }
        return new Scores((double) efficacy / requests.size(), (double) paraphrase / Math.max(1, paraphrased),
                (double) neighborhood / Math.max(1, neighbors));
    }

    /** Mean per-token log-probability of {@code target} as the continuation of {@code prompt}. */
    static double logProb(Decoder d, Adapter adapter, Tokenizer tokenizer, String prompt, String target) {
        int[] p = tokenizer.encode(prompt, true);
        int[] t = SubjectPrompt.continuation(tokenizer, prompt, target);
        int[] row = new int[p.length + t.length - 1];
        System.arraycopy(p, 0, row, 0, p.length);
        System.arraycopy(t, 0, row, p.length, t.length - 1);
        Sequence s = d.newSequence(adapter);
        float[][] logits = d.step(List.of(new Decoder.Chunk(s, row, true))).getFirst();
        double sum = 0;
        for (int j = 0; j < t.length; j++) {
            float[] l = logits[p.length - 1 + j];
            double max = Double.NEGATIVE_INFINITY;
            for (float x : l) {
                max = Math.max(max, x);
            }
            double z = 0;
            for (float x : l) {
                z += Math.exp(x - max);
            }
            sum += l[t[j]] - max - Math.log(z);
        }
        return sum / t.length;
    }
}
