package io.emend.core.train.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter): for each parameter p with gradient g at step t (1-based),
 * <pre>
 *   m = β1·m + (1-β1)·g;   v = β2·v + (1-β2)·g²
 *   p -= lr·λ·p                                   (decay, not part of the gradient)
 *   p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)
 * </pre>
 * Runs on the heap over float arrays: the trained parameters of a LoRA run are a few million values at most, the
 * arithmetic is exactly reproducible, and the moments are plain arrays a checkpoint can save and restore bitwise.
 * The per-element arithmetic is done in double and rounded once.
 */
public final class AdamW {

    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final Map<String, float[]> first = new LinkedHashMap<>();
    private final Map<String, float[]> second = new LinkedHashMap<>();
    private long steps;

    public AdamW(double beta1, double beta2, double epsilon, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (!(epsilon > 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("epsilon must be positive and weight decay non-negative");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
    }

    /** PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8. */
    public static AdamW withWeightDecay(double weightDecay) {
        return new AdamW(0.9, 0.999, 1e-8, weightDecay);
    }

    /** Optimizer steps taken so far. */
    public long steps() {
        return steps;
    }

    /**
     * One step over all parameters; {@code values} are updated in place.
     *
     * @param values    name to values
     * @param gradients name to gradients, same names and lengths
     */
    public void step(Map<String, float[]> values, Map<String, float[]> gradients, double learningRate) {
        steps++;
        double c1 = 1 - Math.pow(beta1, steps);
        double c2 = 1 - Math.pow(beta2, steps);
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            String name = e.getKey();
            float[] p = e.getValue();
            float[] g = gradients.get(name);
            if (g == null || g.length != p.length) {
                throw new IllegalArgumentException("no gradient of the right size for " + name);
            }
            float[] m = first.computeIfAbsent(name, k -> new float[p.length]);
            float[] v = second.computeIfAbsent(name, k -> new float[p.length]);
            for (int i = 0; i < p.length; i++) {
                double mi = beta1 * m[i] + (1 - beta1) * g[i];
                double vi = beta2 * v[i] + (1 - beta2) * (double) g[i] * g[i];
                m[i] = (float) mi;
                v[i] = (float) vi;
                double x = p[i] * (1 - learningRate * weightDecay);
                x -= learningRate * (mi / c1) / (Math.sqrt(vi / c2) + epsilon);
                p[i] = (float) x;
            }
        }
    }

    /** The first moments by parameter name (live arrays, for checkpoints). */
    public Map<String, float[]> firstMoments() {
        return first;
    }

    /** The second moments by parameter name (live arrays, for checkpoints). */
    public Map<String, float[]> secondMoments() {
        return second;
    }

    /** Restores moments and the step count saved by a checkpoint. */
    public void restore(Map<String, float[]> m, Map<String, float[]> v, long stepCount) {
        first.clear();
        second.clear();
        m.forEach((k, a) -> first.put(k, a.clone()));
        v.forEach((k, a) -> second.put(k, a.clone()));
        steps = stepCount;
    }
}
