package io.emend.core.merge.adamerging;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.emend.core.graph.Constant;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.WeightDelta;
import io.emend.core.merge.MergeException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AdaMerging's objective: the mean prediction entropy {@code −Σ_v p(v)·log p(v)} over the real positions of a batch,
 * for the merged model {@code base + Σₖ λₖ,₉ · δₖ} as a differentiable function of the coefficients λ [models, groups].
 *
 * <p>The merged weights are never stored: the base model runs with one dense {@link WeightDelta} per tensor,
 * {@code Σₖ λₖ,₉·δₖ}, formed in the step's scope from the coefficient array, so autograd carries the entropy's
 * gradient back to λ. The task vectors δₖ are held in one manager, in the graph's orientation, for the objective's
 * lifetime; tensors that no model changed are left out. Holding them is what limits AdaMerging to models whose base
 * and task vectors fit in memory, as in the paper; the merge that follows streams as usual.
 */
public final class EntropyObjective implements AutoCloseable {

    private final Transformer base;
    private final NDManager vectors = NDManager.newBaseManager();
    /** Per changed tensor, one task vector per model: [models] of the tensor's graph shape. */
    private final Map<String, List<NDArray>> taskVectors = new LinkedHashMap<>();
    private final CoefficientGroups groups;
    private final int models;

    /**
     * @param base   the base model, owned by the objective from now on
     * @param tuned  the models merged, same architecture; read here and left to the caller to close
     */
    public EntropyObjective(Transformer base, List<Transformer> tuned, Granularity granularity) {
        this.base = base;
        this.models = tuned.size();
        this.groups = CoefficientGroups.of(granularity, base.parameterNames());
        try {
            for (String name : base.parameterNames()) {
                NDArray b = base.parameter(name);
                List<NDArray> deltas = new ArrayList<>();
                boolean changed = false;
                for (Transformer t : tuned) {
                    if (!t.parameterNames().contains(name)) {
                        throw new MergeException("tensor '" + name + "': a merged model has no such parameter");
                    }
                    NDArray x = t.parameter(name);
                    if (!x.getShape().equals(b.getShape())) {
                        throw new MergeException("tensor '" + name + "' has shape " + x.getShape() + " in a merged model"
                                + " and " + b.getShape() + " in the base");
                    }
                    NDArray d = x.sub(b);
                    d.attach(vectors);
                    try (NDArray magnitude = d.abs(); NDArray largest = magnitude.max()) {
                        changed |= largest.getFloat() > 0;
                    }
                    deltas.add(d);
                }
                if (changed) {
                    taskVectors.put(name, deltas);
                } else {
                    deltas.forEach(NDArray::close);
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens the base and the models from Hugging Face directories; the models are closed once read. */
    public static EntropyObjective load(Path baseDir, List<Path> modelDirs, Granularity granularity) throws IOException {
        Transformer base = Transformer.open(baseDir, Optional.empty());
        List<Transformer> tuned = new ArrayList<>();
        try {
            for (Path dir : modelDirs) {
                tuned.add(Transformer.open(dir, Optional.empty()));
            }
            return new EntropyObjective(base, tuned, granularity);
        } catch (IOException | RuntimeException e) {
            base.close();
            throw e;
        } finally {
            tuned.forEach(Transformer::close);
        }
    }

    public int models() {
        return models;
    }

    public CoefficientGroups groups() {
        return groups;
    }

    /** Tensors some model changed, the ones the objective (and its gradient) depends on. */
    public List<String> changedTensors() {
        return List.copyOf(taskVectors.keySet());
    }

    /**
     * The entropy of a batch and, when asked, its gradient with respect to λ.
     *
     * @param entropy   mean entropy per real position, in nats
     * @param positions real positions averaged over
     * @param gradient  ∂entropy/∂λ [models][groups], or null when not asked
     */
    public record Evaluation(double entropy, long positions, double[][] gradient) {
    }

    /** The mean entropy of the merged model with coefficients {@code lambda} [models][groups] on {@code batch}. */
    public Evaluation value(double[][] lambda, TokenBatch batch) {
        try (NDManager step = vectors.newSubManager()) {
            return new Evaluation(entropy(step, coefficients(step, lambda), batch).getFloat(), positions(batch), null);
        }
    }

    /** The mean entropy and its gradient, by one forward and one backward through the graph. */
    public Evaluation valueAndGradient(double[][] lambda, TokenBatch batch) {
        try (NDManager step = vectors.newSubManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray coefficients = coefficients(step, lambda);
            coefficients.setRequiresGradient(true);
            NDArray entropy = entropy(step, coefficients, batch);
            double value = entropy.getFloat();
            gc.backward(entropy);
            double[][] gradient = new double[models][groups.size()];
            try (NDArray g = coefficients.getGradient()) {
                float[] flat = g.toFloatArray();
                for (int k = 0; k < models; k++) {
                    for (int j = 0; j < groups.size(); j++) {
                        gradient[k][j] = flat[k * groups.size() + j];
                    }
                }
            }
            return new Evaluation(value, positions(batch), gradient);
        }
    }

    private NDArray coefficients(NDManager step, double[][] lambda) {
        if (lambda.length != models) {
            throw new IllegalArgumentException("expected coefficients for " + models + " models, got " + lambda.length);
        }
        float[] flat = new float[models * groups.size()];
        for (int k = 0; k < models; k++) {
            if (lambda[k].length != groups.size()) {
                throw new IllegalArgumentException("expected " + groups.size() + " coefficients per model, got "
                        + lambda[k].length);
            }
            for (int j = 0; j < groups.size(); j++) {
                flat[k * groups.size() + j] = (float) lambda[k][j];
            }
        }
        return step.create(flat, new Shape(models, groups.size()));
    }

    /** Mean entropy over the batch's real positions, a scalar in {@code step}. */
    /**
     * The merged model's mean next-token loss on a batch, {@code −log p(xₜ₊₁ | x≤ₜ)} in nats over the positions whose
     * next token is real: its perplexity's logarithm. Unlabeled text carries its own targets for a language model, so
     * this needs nothing the entropy does not; it is what early stopping can watch (the search still minimizes
     * entropy).
     *
     * @param entropy   here the mean next-token loss, in nats
     * @param positions predicted positions averaged over
     */
    public Evaluation nextTokenLoss(double[][] lambda, TokenBatch batch) {
        try (NDManager step = vectors.newSubManager()) {
            NDArray logp = logits(step, coefficients(step, lambda), batch).logSoftmax(2);
            int rows = batch.batchSize();
            int length = batch.length();
            long[] targets = new long[rows * length];
            float[] mask = new float[rows * length];
            long predicted = 0;
            for (int b = 0; b < rows; b++) {
                for (int t = 0; t + 1 < length; t++) {
                    if (batch.real(b, t) && batch.real(b, t + 1)) {
                        targets[b * length + t] = batch.id(b, t + 1);
                        mask[b * length + t] = 1;
                        predicted++;
                    }
                }
            }
            NDArray picked = logp.mul(step.create(targets, new Shape(rows, length)).oneHot((int) logp.getShape().get(2)))
                    .sum(new int[] {2});
            double loss = -picked.mul(step.create(mask, new Shape(rows, length))).sum().getFloat() / Math.max(1, predicted);
            return new Evaluation(loss, predicted, null);
        }
    }

    private NDArray logits(NDManager step, NDArray coefficients, TokenBatch batch) {
        ForwardOptions options = ForwardOptions.defaults();
        for (Map.Entry<String, List<NDArray>> e : taskVectors.entrySet()) {
            int group = groups.groupOf(e.getKey());
            NDArray sum = null;
            for (int k = 0; k < models; k++) {
                // the coefficient comes first so that the product belongs to the step, not to the task vectors' manager
                NDArray term = coefficients.get(k, group).mul(e.getValue().get(k));
                sum = sum == null ? term : sum.add(term);
            }
            options = options.withDelta(e.getKey(), new WeightDelta.Dense(sum));
        }
        return base.forward(step, batch, options).logits();
    }

    private NDArray entropy(NDManager step, NDArray coefficients, TokenBatch batch) {
        NDArray logp = logits(step, coefficients, batch).logSoftmax(2);
        NDArray perPosition = logp.exp().mul(logp).sum(new int[] {2}).neg();
        float[] mask = new float[batch.batchSize() * batch.length()];
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int t = 0; t < batch.length(); t++) {
                mask[b * batch.length() + t] = batch.real(b, t) ? 1 : 0;
            }
        }
        NDArray weights = step.create(mask, new Shape(batch.batchSize(), batch.length()));
        NDArray sum = perPosition.mul(weights).sum();
        // the divisor through Constant: backward reads it, and a number passed to div is freed right after the op
        return sum.div(Constant.of(sum, positions(batch)));
    }

    private static long positions(TokenBatch batch) {
        long n = 0;
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int t = 0; t < batch.length(); t++) {
                n += batch.real(b, t) ? 1 : 0;
            }
        }
        return n;
    }

    @Override
    public void close() {
        vectors.close();
        base.close();
    }
}
