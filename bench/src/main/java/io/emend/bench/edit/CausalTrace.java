package io.emend.bench.edit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.SubjectPrompt;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.ForwardResult;
import io.emend.core.graph.Intervention;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.Probe;
import io.emend.core.graph.Site;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ROME's causal trace: where in a model a fact is read. For each known fact, the subject's token embeddings are
 * corrupted with Gaussian noise (so the model no longer knows who is asked about); then, one (layer, position) at a
 * time, one hidden state of the clean run is restored into the corrupted run, and the probability of the true value's
 * first token at the prompt's last position is measured. The indirect effect of a site is that probability minus the
 * corrupted run's: how much of the fact flows through that site. Two kinds of site: the block's output (the whole
 * residual stream) and the MLP's output alone (what ROME and MEMIT rewrite).
 *
 * <p>Positions are grouped as ROME groups them: the subject's first token, its middle tokens (averaged), its last token,
 * the first token after it, the further tokens (averaged), and the prompt's last token; groups no prompt has are left
 * out of the tables.
 *
 * @param cleanProbability     mean P(true value) of the uncorrupted prompts
 * @param corruptedProbability mean P(true value) with the subject corrupted
 * @param hidden               [position group][layer] mean indirect effect of restoring the block output
 * @param mlp                  [position group][layer] mean indirect effect of restoring the MLP output
 * @param facts                facts traced
 */
public record CausalTrace(double cleanProbability, double corruptedProbability, double[][] hidden, double[][] mlp,
                          int facts) {

    /** The position groups, in table order. */
    public static final List<String> GROUPS = List.of("subject first", "subject middle", "subject last",
            "first after subject", "further tokens", "last token");

    /** ROME's noise: three standard deviations of the subject tokens' embeddings. */
    private static final double NOISE_FACTOR = 3.0;

    /**
     * Traces facts (each request's {@code target_new} is the true value the model should give).
     *
     * @param samples noise draws per fact, averaged
     */
    public static CausalTrace run(Transformer model, Tokenizer tokenizer, List<EditRequest> facts, int samples,
                                  long seed) {
        int layers = model.layers();
        List<Prepared> prepared = new ArrayList<>();
        double sum = 0;
        double sumSq = 0;
        long count = 0;
        for (EditRequest f : facts) {
            String prompt = f.filledPrompt();
            SubjectPrompt p = SubjectPrompt.of(tokenizer, "", prompt, f.subject());
            // The subject's first token: the first whose text ends past the subject's start (tokenizing the text before
            // the subject alone would count a trailing space as a piece of its own, one too many).
            Tokenizer.Encoding e = tokenizer.encodeWithOffsets(prompt);
            int start = prompt.indexOf(f.subject());
            int first = 0;
            while (e.ends()[first] <= start) {
                first++;
            }
            first += p.length() - e.ids().length;
            int target = SubjectPrompt.continuation(tokenizer, prompt, f.targetNew())[0];
            float[] embeddings;
            try (NDManager scope = NDManager.newBaseManager()) {
                ForwardResult r = model.forward(scope, TokenBatch.of(p.ids()), ForwardOptions.defaults()
                        .withLogits(LogitsScope.NONE).withCaptures(Probe.embedding()));
                embeddings = r.captured(Probe.embedding()).get(0).toFloatArray();
            }
            int h = embeddings.length / p.length();
            for (int t = first; t <= p.subjectLast(); t++) {
                for (int i = 0; i < h; i++) {
                    double v = embeddings[t * h + i];
                    sum += v;
                    sumSq += v * v;
                    count++;
                }
            }
            prepared.add(new Prepared(p.ids(), first, p.subjectLast(), target));
        }
        double mean = sum / count;
        double noise = NOISE_FACTOR * Math.sqrt(sumSq / count - mean * mean);

        double[][] hidden = new double[GROUPS.size()][layers];
        double[][] mlp = new double[GROUPS.size()][layers];
        double[][] weight = new double[GROUPS.size()][layers];
        double clean = 0;
        double corrupted = 0;
        SplittableRandom rng = new SplittableRandom(seed);
        for (Prepared f : prepared) {
            Map<Probe, float[]> cleanStates = new java.util.HashMap<>();
            int t = f.ids.length;
            List<Probe> sites = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                sites.add(Probe.blockOutput(l));
                sites.add(Probe.mlpDownOutput(l));
            }
            try (NDManager scope = NDManager.newBaseManager()) {
                ForwardResult r = model.forward(scope, TokenBatch.of(f.ids), ForwardOptions.defaults()
                        .withLogits(LogitsScope.LAST).withCaptures(sites.toArray(Probe[]::new)));
                clean += r.logits().get(0).softmax(0).getFloat(f.target);
                for (Probe p : sites) {
                    cleanStates.put(p, r.captured(p).get(0).toFloatArray());
                }
            }
            int h = cleanStates.get(Probe.blockOutput(0)).length / t;
            // Row 0: corrupted only; then one row per (kind, layer, position) restoring that one state.
            int rows = 1 + 2 * layers * t;
            double[] restored = new double[rows];
            double corruptedHere = 0;
            for (int s = 0; s < samples; s++) {
                float[] noiseRows = new float[t * h];
                for (int pos = f.first; pos <= f.last; pos++) {
                    for (int i = 0; i < h; i++) {
                        noiseRows[pos * h + i] = (float) (noise * rng.nextGaussian());
                    }
                }
                List<int[]> batch = new ArrayList<>();
                for (int r = 0; r < rows; r++) {
                    batch.add(f.ids);
                }
                try (NDManager scope = NDManager.newBaseManager()) {
                    NDArray noiseArray = scope.create(noiseRows, new Shape(1, t, h));
                    Map<Probe, NDArray> restoreMask = new java.util.HashMap<>();
                    Map<Probe, NDArray> cleanArray = new java.util.HashMap<>();
                    for (int l = 0; l < layers; l++) {
                        for (int kind = 0; kind < 2; kind++) {
                            Probe p = kind == 0 ? Probe.blockOutput(l) : Probe.mlpDownOutput(l);
                            float[] mask = new float[rows * t];
                            for (int pos = 0; pos < t; pos++) {
                                mask[row(kind, l, pos, layers, t) * t + pos] = 1f;
                            }
                            restoreMask.put(p, scope.create(mask, new Shape(rows, t, 1)));
                            cleanArray.put(p, scope.create(cleanStates.get(p), new Shape(1, t, h)));
                        }
                    }
                    Intervention at = (probe, value) -> {
                        if (probe.site() == Site.EMBEDDING) {
                            return value.add(noiseArray);
                        }
                        NDArray m = restoreMask.get(probe);
                        if (m == null) {
                            return value;
                        }
                        // value·(1 − m) + clean·m, written as value + m·(clean − value)
                        return value.add(cleanArray.get(probe).sub(value).mul(m));
                    };
                    ForwardResult r = model.forward(scope, TokenBatch.padded(batch, TokenBatch.Padding.RIGHT, 0),
                            ForwardOptions.defaults().withLogits(LogitsScope.LAST).withIntervention(at));
                    float[] p = r.logits().softmax(1).get(":, " + f.target).toFloatArray();
                    for (int i = 0; i < rows; i++) {
                        restored[i] += p[i] / samples;
                    }
                }
            }
            corruptedHere = restored[0];
            corrupted += corruptedHere;
            for (int l = 0; l < layers; l++) {
                for (int pos = 0; pos < t; pos++) {
                    int g = group(pos, f.first, f.last, t);
                    double w = g == 1 ? 1.0 / Math.max(1, f.last - f.first - 1)
                            : g == 4 ? 1.0 / Math.max(1, t - f.last - 3) : 1.0;
                    if (g < 0) {
                        continue;
                    }
                    hidden[g][l] += w * (restored[row(0, l, pos, layers, t)] - corruptedHere);
                    mlp[g][l] += w * (restored[row(1, l, pos, layers, t)] - corruptedHere);
                    weight[g][l] += w;
                }
            }
        }
        for (int g = 0; g < GROUPS.size(); g++) {
            for (int l = 0; l < layers; l++) {
                hidden[g][l] = weight[g][l] == 0 ? Double.NaN : hidden[g][l] / weight[g][l];
                mlp[g][l] = weight[g][l] == 0 ? Double.NaN : mlp[g][l] / weight[g][l];
            }
        }
        return new CausalTrace(clean / prepared.size(), corrupted / prepared.size(), hidden, mlp, prepared.size());
    }

    private static int row(int kind, int layer, int pos, int layers, int t) {
        return 1 + (kind * layers + layer) * t + pos;
    }

    /**
     * The group of a position, or -1 for the BOS and the tokens before the subject. The subject's last token wins over the
     * prompt's last (subject-last phrasings) and over its first (one-token subjects); the prompt's last wins over "first
     * after subject" and "further".
     */
    static int group(int pos, int first, int last, int length) {
        if (pos == last) {
            return 2;
        }
        if (pos == length - 1) {
            return 5;
        }
        if (pos < first) {
            return -1;
        }
        if (pos == first) {
            return 0;
        }
        if (pos < last) {
            return 1;
        }
        return pos == last + 1 ? 3 : 4;
    }

    /** The two tables, positions down and layers across. */
    public void print(PrintStream out) {
        out.printf("causal trace over %d facts: P(true value) clean %.3f, subject corrupted %.3f%n", facts,
                cleanProbability, corruptedProbability);
        table(out, "restored block output (residual stream)", hidden);
        table(out, "restored MLP output", mlp);
    }

    private static void table(PrintStream out, String title, double[][] effect) {
        out.printf("%nindirect effect, %s: P(restored) − P(corrupted)%n%n| position |", title);
        for (int l = 0; l < effect[0].length; l++) {
            out.printf(" layer %d |", l);
        }
        out.print("\n|---|");
        out.print("---|".repeat(effect[0].length));
        out.println();
        for (int g = 0; g < GROUPS.size(); g++) {
            if (Double.isNaN(effect[g][0])) {
                continue; // no prompt has such a position (nothing follows a subject at the prompt's end)
            }
            out.printf("| %s |", GROUPS.get(g));
            for (double v : effect[g]) {
                out.printf(" %+.3f |", v);
            }
            out.println();
        }
    }

    private record Prepared(int[] ids, int first, int last, int target) {
    }
}
