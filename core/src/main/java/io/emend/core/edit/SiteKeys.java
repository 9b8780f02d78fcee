package io.emend.core.edit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.ForwardResult;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.Probe;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads a probe's value at the subject's last token of many prompts: the keys (MLP down-projection inputs) an edit
 * writes to and the hidden states MEMIT spreads its residual from. Prompts run in right-padded batches without the
 * LM head.
 */
public final class SiteKeys {

    private static final int ROWS_PER_BATCH = 32;

    private SiteKeys() {
    }

    /** One row per prompt: the value of {@code probe} at its subject's last token. */
    public static float[][] read(Transformer model, ForwardOptions options, Probe probe, List<SubjectPrompt> prompts) {
        float[][] out = new float[prompts.size()][];
        ForwardOptions o = options.withCache(null).withLogits(LogitsScope.NONE).withCaptures(probe);
        for (int from = 0; from < prompts.size(); from += ROWS_PER_BATCH) {
            List<SubjectPrompt> part = prompts.subList(from, Math.min(prompts.size(), from + ROWS_PER_BATCH));
            List<int[]> ids = new ArrayList<>();
            for (SubjectPrompt p : part) {
                ids.add(p.ids());
            }
            try (NDManager scope = NDManager.newBaseManager()) {
                ForwardResult r = model.forward(scope, TokenBatch.padded(ids, TokenBatch.Padding.RIGHT, 0), o);
                NDArray values = r.captured(probe);
                NDList rows = new NDList();
                for (int i = 0; i < part.size(); i++) {
                    rows.add(values.get(i, part.get(i).subjectLast()));
                }
                float[] flat = NDArrays.stack(rows).toFloatArray();
                int width = flat.length / part.size();
                for (int i = 0; i < part.size(); i++) {
                    out[from + i] = java.util.Arrays.copyOfRange(flat, i * width, (i + 1) * width);
                }
            }
        }
        return out;
    }

    /**
     * The keys of edits at a layer: for each edit, the MLP down-projection input at the subject's last token averaged
     * over its rewriting prompts (ROME's k*).
     *
     * @return [keyDim, edits]
     */
    public static Matrix keys(Transformer model, ForwardOptions options, int layer, List<PreparedEdit> edits) {
        List<SubjectPrompt> all = new ArrayList<>();
        for (PreparedEdit e : edits) {
            all.addAll(e.rewriting());
        }
        float[][] values = read(model, options, Probe.mlpDownInput(layer), all);
        List<double[]> columns = new ArrayList<>();
        int at = 0;
        for (PreparedEdit e : edits) {
            int n = e.rewriting().size();
            double[] mean = new double[values[at].length];
            for (int j = 0; j < n; j++) {
                float[] v = values[at + j];
                for (int i = 0; i < mean.length; i++) {
                    mean[i] += v[i] / (double) n;
                }
            }
            at += n;
            columns.add(mean);
        }
        return Matrix.ofColumns(columns);
    }

    /** The value of {@code probe} at each edit's bare prompt: [width, edits]. */
    public static Matrix atBarePrompts(Transformer model, ForwardOptions options, Probe probe, List<PreparedEdit> edits) {
        List<SubjectPrompt> bare = edits.stream().map(e -> e.rewriting().getFirst()).toList();
        float[][] values = read(model, options, probe, bare);
        List<double[]> columns = new ArrayList<>();
        for (float[] v : values) {
            double[] d = new double[v.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = v[i];
            }
            columns.add(d);
        }
        return Matrix.ofColumns(columns);
    }
}
