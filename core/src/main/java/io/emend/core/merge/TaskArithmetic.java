package io.emend.core.merge;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Task arithmetic (Ilharco et al., 2023) and the methods built on it. Each model's task vector δₖ = xₖ − base is
 * optionally sparsified, weighted, combined and scaled by λ:
 * <pre>
 *   merged = base + λ · Σₖ mₖ·wₖ·δₖ / (normalize ? Σₖ mₖ·wₖ : 1)
 * </pre>
 * where the mask mₖ is 1 everywhere unless sign consensus is on. With sign consensus (TIES) the sign of each
 * element is elected by the summed mass Σₖ wₖ·δₖ (ties go to +), and only the models whose weighted delta has
 * that sign take part, so with {@code normalize} the result is the mean of the agreeing deltas (the "disjoint
 * mean"); where no model agrees the divisor is taken as 1. Plain task arithmetic, TIES, DARE-linear and DARE-TIES
 * are instances of this one class, as {@link MergeCatalog} registers them.
 */
public final class TaskArithmetic implements MergeMethod {

    /** Below this, the plain (unmasked) weight sum is treated as zero and not divided by. */
    static final double ZERO_WEIGHT_SUM = 1e-8;

    private final String name;
    private final String description;
    private final Optional<Sparsifier> sparsifier;
    private final boolean signConsensus;
    private final List<Parameter> parameters;

    public TaskArithmetic(String name, String description, Optional<Sparsifier> sparsifier, boolean signConsensus,
                          boolean normalizeByDefault) {
        this.name = name;
        this.description = description;
        this.sparsifier = sparsifier;
        this.signConsensus = signConsensus;
        List<Parameter> p = new ArrayList<>();
        p.add(Parameter.required("weight", Parameter.Scope.PER_MODEL));
        sparsifier.ifPresent(s -> p.addAll(s.parameters()));
        p.add(Parameter.number("lambda", Parameter.Scope.GLOBAL, 1.0));
        p.add(Parameter.flag("normalize", normalizeByDefault));
        this.parameters = List.copyOf(p);
    }

    /** {@code task_arithmetic}: λ times the weighted sum of the task vectors. */
    public static TaskArithmetic plain() {
        return new TaskArithmetic("task_arithmetic", "base + λ·Σ weight·(model − base)",
                Optional.empty(), false, false);
    }

    /** {@code ties}: trim to the densest magnitudes, elect signs, disjoint mean. */
    public static TaskArithmetic ties() {
        return new TaskArithmetic("ties", "task arithmetic with magnitude trimming, sign election and disjoint mean",
                Optional.of(new Sparsifier.Magnitude()), true, true);
    }

    /** {@code dare_linear}: random drop with rescale, then task arithmetic. */
    public static TaskArithmetic dareLinear() {
        return new TaskArithmetic("dare_linear", "task arithmetic on randomly dropped and rescaled task vectors",
                Optional.of(new Sparsifier.RandomDrop()), false, false);
    }

    /** {@code dare_ties}: random drop with rescale, then TIES' sign election and disjoint mean. */
    public static TaskArithmetic dareTies() {
        return new TaskArithmetic("dare_ties", "TIES sign election on randomly dropped and rescaled task vectors",
                Optional.of(new Sparsifier.RandomDrop()), true, true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public List<Parameter> parameters() {
        return parameters;
    }

    @Override
    public boolean needsBase() {
        return true;
    }

    public Optional<Sparsifier> sparsifier() {
        return sparsifier;
    }

    public boolean signConsensus() {
        return signConsensus;
    }

    /**
     * Each output element depends only on the same element of the inputs (sign election included) unless the
     * sparsifier looks at the whole tensor (TIES' magnitude threshold); DARE's draw depends on the element's index
     * only.
     */
    @Override
    public boolean elementwise() {
        return sparsifier.map(Sparsifier::elementwise).orElse(true);
    }

    @Override
    public void merge(TensorMerge m) {
        TensorView base = m.requireBase(name);
        int k = m.models().size();
        double[] w = new double[k];
        Sparsifier.Mask[] masks = new Sparsifier.Mask[k];
        for (int j = 0; j < k; j++) {
            TensorParameters p = m.modelParameters().get(j);
            w[j] = p.number("weight");
            masks[j] = Sparsifier.Mask.KEEP_ALL;
            if (sparsifier.isPresent()) {
                double density = p.number("density");
                if (!(density >= 0 && density <= 1)) {
                    throw new MergeException(name + ": density " + density + " of model " + (j + 1) + " for tensor '"
                            + m.tensorName() + "' is outside [0, 1]");
                }
                TensorView delta = TensorView.difference(m.models().get(j), base);
                masks[j] = sparsifier.get().prepare(delta, density, m.global(), streamSeed(m.seed(), m.tensorName(), j));
            }
        }
        double lambda = m.global().number("lambda");
        boolean normalize = m.global().flag("normalize");
        float[] b = m.buffer();
        float[][] d = new float[k][];
        for (int j = 0; j < k; j++) {
            d[j] = m.buffer();
        }
        float[] out = m.buffer();
        double[] mass = new double[b.length];
        double[] mixed = new double[b.length];
        double[] divisor = new double[b.length];
        for (long from = 0; from < m.elements(); from += m.chunk()) {
            int len = m.chunkLength(from);
            base.read(from, b, len);
            for (int j = 0; j < k; j++) {
                m.models().get(j).read(from, d[j], len);
                for (int i = 0; i < len; i++) {
                    d[j][i] -= b[i];
                }
                masks[j].apply(m.offset() + from, d[j], len);
            }
            // Model-outer, element-inner vector kernels over chunk-sized arrays; sums still run over models in order.
            java.util.Arrays.fill(mixed, 0, len, 0.0);
            java.util.Arrays.fill(divisor, 0, len, 0.0);
            if (signConsensus) {
                java.util.Arrays.fill(mass, 0, len, 0.0);
                for (int j = 0; j < k; j++) {
                    WeightedSum.add(mass, d[j], w[j], len);
                }
                for (int j = 0; j < k; j++) {
                    SignElection.addAgreeing(mass, mixed, divisor, d[j], w[j], len);
                }
                for (int i = 0; i < len; i++) {
                    if (divisor[i] == 0) {
                        divisor[i] = 1;
                    }
                }
            } else {
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    WeightedSum.add(mixed, d[j], w[j], len);
                    sum += w[j];
                }
                java.util.Arrays.fill(divisor, 0, len, Math.abs(sum) < ZERO_WEIGHT_SUM ? 1 : sum);
            }
            // Adding an exact zero keeps the base's bits (including -0.0), so λ = 0 returns the base exactly.
            Rebase.apply(b, mixed, divisor, normalize, lambda, out, len);
            m.out().write(from, out, len);
        }
    }

    /** A seed per (recipe seed, tensor, model) so that each random mask is independent and reproducible. */
    static long streamSeed(long seed, String tensorName, int model) {
        long h = seed;
        h = mix(h ^ tensorName.hashCode());
        h = mix(h ^ (model + 1L));
        return h;
    }

    /** SplitMix64's finalizer: spreads nearby inputs over the whole 64-bit range. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
