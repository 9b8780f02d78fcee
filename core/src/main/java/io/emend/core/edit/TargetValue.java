package io.emend.core.edit;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.ForwardResult;
import io.emend.core.graph.Intervention;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.Probe;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the value an edit should write at one site (ROME: the MLP output of the edited layer; MEMIT: the residual
 * stream after the last edited layer) so that the model continues the prompt with the new target, by gradient descent
 * on a shift δ as {@link TargetOptions} describes. One forward per step runs every rewriting prompt (the bare prompt
 * and the prefixed ones, teacher-forced with the target) and the KL prompt together; δ is added at each row's
 * subject-last token through an {@link Intervention}.
 *
 * @param initial v₀: the unshifted value at the bare prompt's subject-last token
 * @param delta   δ; the target value is {@code v₀ + δ}
 * @param nll     the mean target NLL (nats per token) at the last step
 * @param steps   steps taken
 */
public record TargetValue(float[] initial, float[] delta, double nll, int steps) {

    public TargetValue {
        initial = initial.clone();
        delta = delta.clone();
    }

    @Override
    public float[] initial() {
        return initial.clone();
    }

    @Override
    public float[] delta() {
        return delta.clone();
    }

    /** {@code v₀ + δ}. */
    public float[] target() {
        float[] t = new float[initial.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = initial[i] + delta[i];
        }
        return t;
    }

    /**
     * @param base      the options every forward runs with (the deltas of edits made so far)
     * @param site      where δ is added; also where v₀ is read
     * @param rewriting the rewriting prompts, the bare prompt first
     * @param target    the new target's tokens
     * @param kl        the KL prompt ("{subject} is a")
     * @throws IllegalStateException when the loss or its gradient turns NaN or infinite
     */
    public static TargetValue optimize(Transformer model, ForwardOptions base, Probe site, List<SubjectPrompt> rewriting,
                                       int[] target, SubjectPrompt kl, TargetOptions options, Progress progress) {
        List<int[]> rows = new ArrayList<>();
        for (SubjectPrompt p : rewriting) {
            int[] ids = p.ids();
            int[] row = new int[ids.length + target.length - 1];
            System.arraycopy(ids, 0, row, 0, ids.length);
            System.arraycopy(target, 0, row, ids.length, target.length - 1);
            rows.add(row);
        }
        rows.add(kl.ids());
        TokenBatch batch = TokenBatch.padded(rows, TokenBatch.Padding.RIGHT, 0);
        int b = batch.batchSize();
        int t = batch.length();
        int klRow = b - 1;
        float[] lookup = new float[b * t];
        long[] targetIds = new long[b * t];
        float[] weights = new float[b * t];
        for (int r = 0; r < rewriting.size(); r++) {
            SubjectPrompt p = rewriting.get(r);
            lookup[r * t + p.subjectLast()] = 1f;
            for (int j = 0; j < target.length; j++) {
                int pos = p.length() - 1 + j;
                targetIds[r * t + pos] = target[j];
                weights[r * t + pos] = 1f / (target.length * rewriting.size());
            }
        }
        lookup[klRow * t + kl.subjectLast()] = 1f;
        int klPos = kl.length() - 1;
        ForwardOptions runs = base.withCache(null).withLogits(LogitsScope.ALL);

        float[] v0;
        float[] klInit;
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardResult r = model.forward(scope, batch, runs.withCaptures(site));
            v0 = r.captured(site).get(0, rewriting.getFirst().subjectLast()).toFloatArray();
            klInit = r.logits().get(klRow, klPos).logSoftmax(0).toFloatArray();
        }
        double v0Norm = Math.max(norm(v0), 1e-6);
        double maxNorm = options.clampNormFactor() * v0Norm;
        int h = v0.length;
        float[] delta = new float[h];
        double[] m = new double[h];
        double[] v = new double[h];
        double beta1 = 0.9;
        double beta2 = 0.999;
        double nll = Double.NaN;
        int step = 0;
        try (NDManager scope = NDManager.newBaseManager()) {
            NDArray lookupMask = scope.create(lookup, new Shape(b, t, 1));
            NDArray index = scope.create(targetIds, new Shape(b, t, 1));
            NDArray weight = scope.create(weights, new Shape(b, t, 1));
            NDArray pInit = scope.create(klInit).exp();
            NDArray logPInit = scope.create(klInit);
            // Loss weights as arrays that stay referenced until the end: autograd saves a multiplier for backward, and
            // DJL's mul(Number) hands it a temporary whose buffer may be freed before backward runs.
            NDArray klWeight = scope.create((float) options.klFactor());
            NDArray decayWeight = scope.create((float) (options.weightDecay() / (v0Norm * v0Norm)));
            while (step < options.steps()) {
                progress.checkCancelled();
                float[] grad;
                double klValue;
                try (NDManager s = scope.newSubManager()) {
                    NDArray d = s.create(delta);
                    d.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        // Built inside the collector so autograd records it; activation-first so it lands in this step.
                        NDArray shift = d.mul(lookupMask);
                        Intervention at = (probe, value) -> probe.equals(site) ? value.add(shift) : value;
                        NDArray logits = model.forward(s, batch, runs.withIntervention(at)).logits();
                        NDArray logp = logits.logSoftmax(2);
                        NDArray nllTerm = logp.gather(index, 2).mul(weight).sum().neg();
                        NDArray klTerm = logp.get(klRow, klPos).neg().add(logPInit).mul(pInit).sum();
                        NDArray decay = d.square().sum().mul(decayWeight);
                        NDArray loss = nllTerm.add(klTerm.mul(klWeight)).add(decay);
                        nll = nllTerm.getFloat();
                        klValue = klTerm.getFloat();
                        double lossValue = loss.getFloat();
                        if (!Double.isFinite(lossValue)) {
                            throw new IllegalStateException("target optimisation diverged at step " + step + ": loss "
                                    + lossValue + " (nll " + nll + ", kl " + klValue + ")");
                        }
                        if (nll < options.stopNll()) {
                            break;
                        }
                        gc.backward(loss);
                    }
                    try (NDArray g = d.getGradient()) {
                        grad = g.toFloatArray();
                    }
                }
                step++;
                for (int i = 0; i < h; i++) {
                    if (!Float.isFinite(grad[i])) {
                        throw new IllegalStateException("target optimisation diverged at step " + step
                                + ": non-finite gradient");
                    }
                    m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
                    v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
                    double mHat = m[i] / (1 - Math.pow(beta1, step));
                    double vHat = v[i] / (1 - Math.pow(beta2, step));
                    delta[i] -= (float) (options.learningRate() * mHat / (Math.sqrt(vHat) + 1e-8));
                }
                double n = norm(delta);
                if (n > maxNorm) {
                    float scale = (float) (maxNorm / n);
                    for (int i = 0; i < h; i++) {
                        delta[i] *= scale;
                    }
                }
            }
        }
        return new TargetValue(v0, delta, nll, step);
    }

    static double norm(float[] x) {
        double s = 0;
        for (float f : x) {
            s += (double) f * f;
        }
        return Math.sqrt(s);
    }
}
