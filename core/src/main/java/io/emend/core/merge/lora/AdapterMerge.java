package io.emend.core.merge.lora;

import io.emend.core.delta.LoraDelta;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.merge.MergeCatalog;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.MergeMethod;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.TensorParameters;
import io.emend.core.merge.TensorSink;
import io.emend.core.merge.TensorView;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Combines LoRA adapters of one base model into one adapter.
 * <ul>
 *   <li>{@link Combination#CONCATENATION}: stacks the factors, A' = [A₁; A₂; …], B' = [w₁s₁B₁ | w₂s₂B₂ | …],
 *       so B'·A' = Σ wᵢ·sᵢ·Bᵢ·Aᵢ exactly, at rank Σ rᵢ;</li>
 *   <li>{@link Combination#LINEAR}: the same weighted sum of products, computed densely and re-factorized to the
 *       target rank;</li>
 *   <li>{@link Combination#TIES}, {@link Combination#DARE_LINEAR}, {@link Combination#DARE_TIES}: the catalog's
 *       task-arithmetic methods applied to the dense products ΔWᵢ = sᵢ·Bᵢ·Aᵢ as task vectors over a zero base,
 *       then re-factorized.</li>
 * </ul>
 * Re-factorization is a {@link TruncatedSvd}: B' = U·√Σ, A' = √Σ·Vᵀ with alpha = r', so the written scale is 1.
 * Each module's relative Frobenius reconstruction error ‖ΔW − B'A'‖/‖ΔW‖ is reported; it is zero (up to rounding)
 * when the target rank is at least the rank of the merged ΔW. A module that only some adapters touch is merged
 * with a zero delta for the others.
 */
public final class AdapterMerge {

    /** How adapters are combined. */
    public enum Combination {
        LINEAR(Optional.empty()),
        CONCATENATION(Optional.empty()),
        TIES(Optional.of("ties")),
        DARE_LINEAR(Optional.of("dare_linear")),
        DARE_TIES(Optional.of("dare_ties"));

        private final Optional<String> method;

        Combination(Optional<String> method) {
            this.method = method;
        }
    }

    /**
     * The merged adapter and, per module, the reconstruction error of its re-factorization (0 for concatenation).
     */
    public record Result(LoraAdapter adapter, Map<String, Double> reconstructionError) {
        public double maxError() {
            return reconstructionError.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        }
    }

    private AdapterMerge() {
    }

    /**
     * @param weights    one per adapter
     * @param density    fraction kept by TIES/DARE (ignored by the others)
     * @param targetRank rank of the output for the re-factorizing combinations
     * @param seed       DARE's draws and the SVD's random directions
     */
    public static Result combine(List<LoraAdapter> adapters, List<Double> weights, Combination how, double density,
                                 int targetRank, long seed) {
        if (adapters.isEmpty() || adapters.size() != weights.size()) {
            throw new MergeException("give one weight per adapter (" + adapters.size() + " adapters, "
                    + weights.size() + " weights)");
        }
        if (how != Combination.CONCATENATION && targetRank <= 0) {
            throw new MergeException(how + " re-factorizes to a target rank, which must be positive (got " + targetRank + ")");
        }
        Map<String, List<LoraDelta>> modules = new LinkedHashMap<>();
        for (LoraAdapter a : adapters) {
            for (LoraDelta d : a.deltas()) {
                List<LoraDelta> same = modules.computeIfAbsent(d.module(), k -> new ArrayList<>());
                if (!same.isEmpty() && (same.getFirst().in() != d.in() || same.getFirst().out() != d.out())) {
                    throw new MergeException("module '" + d.module() + "' is [" + same.getFirst().out() + ", "
                            + same.getFirst().in() + "] in one adapter and [" + d.out() + ", " + d.in() + "] in another");
                }
                same.add(d);
            }
        }
        List<LoraDelta> merged = new ArrayList<>();
        Map<String, Double> errors = new LinkedHashMap<>();
        int outRank = how == Combination.CONCATENATION ? -1 : targetRank;
        for (Map.Entry<String, List<LoraDelta>> e : modules.entrySet()) {
            String module = e.getKey();
            List<Double> w = new ArrayList<>();
            List<LoraDelta> present = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                LoraDelta d = adapters.get(i).byModule().get(module);
                if (d != null) {
                    present.add(d);
                    w.add(weights.get(i));
                }
            }
            if (how == Combination.CONCATENATION) {
                merged.add(concatenate(module, present, w));
                errors.put(module, 0.0);
                continue;
            }
            LoraDelta first = present.getFirst();
            double[] dense = how == Combination.LINEAR ? weightedSum(present, w)
                    : taskArithmetic(how, module, adapters, weights, first.out(), first.in(), density, seed);
            TruncatedSvd.Factors f = TruncatedSvd.of(dense, first.out(), first.in(), targetRank, seed ^ module.hashCode());
            errors.put(module, TruncatedSvd.relativeError(dense, f));
            merged.add(factors(module, f, targetRank));
        }
        int rank = how == Combination.CONCATENATION ? merged.stream().mapToInt(LoraDelta::rank).max().orElse(0) : outRank;
        if (how == Combination.CONCATENATION && merged.stream().anyMatch(d -> d.rank() != rank)) {
            // PEFT has one r per adapter: pad smaller modules with zero rows/columns up to the largest rank
            merged.replaceAll(d -> pad(d, rank));
        }
        LinkedHashSet<String> targets = new LinkedHashSet<>();
        adapters.forEach(a -> targets.addAll(a.config().targetModules()));
        // the scales are folded into the factors: alpha = r and plain LoRA scaling make the written scale 1
        PeftAdapterConfig config = adapters.getFirst().config().with(rank, rank, List.copyOf(targets), false);
        return new Result(new LoraAdapter(config, merged), errors);
    }

    private static double[] weightedSum(List<LoraDelta> deltas, List<Double> w) {
        LoraDelta first = deltas.getFirst();
        double[] dense = new double[first.out() * first.in()];
        for (int i = 0; i < deltas.size(); i++) {
            LoraDelta d = deltas.get(i);
            for (int o = 0; o < d.out(); o++) {
                d.addRow(o, dense, o * d.in(), w.get(i));
            }
        }
        return dense;
    }

    private static double[] taskArithmetic(Combination how, String module, List<LoraAdapter> adapters, List<Double> weights,
                                           int out, int in, double density, long seed) {
        MergeMethod method = MergeCatalog.STANDARD.find(how.method.orElseThrow());
        int n = out * in;
        List<TensorView> views = new ArrayList<>();
        List<TensorParameters> params = new ArrayList<>();
        for (int i = 0; i < adapters.size(); i++) {
            LoraDelta d = adapters.get(i).byModule().get(module);
            float[] dense = new float[n];
            if (d != null) {
                double[] x = d.dense();
                for (int j = 0; j < n; j++) {
                    dense[j] = (float) x[j];
                }
            }
            views.add(TensorView.of(dense, "adapter " + (i + 1) + " module '" + module + "'"));
            params.add(TensorParameters.of(Map.of("weight", weights.get(i), "density", density)));
        }
        float[] result = new float[n];
        method.merge(new TensorMerge(module, Optional.of(TensorView.of(new float[n], "zero base")), views, params,
                TensorParameters.of(Map.of("lambda", 1.0, "normalize", how == Combination.DARE_LINEAR ? 0.0 : 1.0,
                        "rescale", 1.0)), seed, TensorSink.of(result), TensorMerge.DEFAULT_CHUNK));
        double[] dense = new double[n];
        for (int j = 0; j < n; j++) {
            dense[j] = result[j];
        }
        return dense;
    }

    private static LoraDelta concatenate(String module, List<LoraDelta> deltas, List<Double> w) {
        LoraDelta first = deltas.getFirst();
        int rank = deltas.stream().mapToInt(LoraDelta::rank).sum();
        float[] a = new float[rank * first.in()];
        float[] b = new float[first.out() * rank];
        int offset = 0;
        for (int i = 0; i < deltas.size(); i++) {
            LoraDelta d = deltas.get(i);
            System.arraycopy(d.a(), 0, a, offset * d.in(), d.rank() * d.in());
            double factor = w.get(i) * d.scale();
            for (int o = 0; o < d.out(); o++) {
                for (int k = 0; k < d.rank(); k++) {
                    b[o * rank + offset + k] = (float) (factor * d.b()[o * d.rank() + k]);
                }
            }
            offset += d.rank();
        }
        return new LoraDelta(module, rank, first.in(), first.out(), a, b, 1.0);
    }

    private static LoraDelta pad(LoraDelta d, int rank) {
        if (d.rank() == rank) {
            return d;
        }
        float[] a = new float[rank * d.in()];
        System.arraycopy(d.a(), 0, a, 0, d.a().length);
        float[] b = new float[d.out() * rank];
        for (int o = 0; o < d.out(); o++) {
            System.arraycopy(d.b(), o * d.rank(), b, o * rank, d.rank());
        }
        return new LoraDelta(d.module(), rank, d.in(), d.out(), a, b, d.scale());
    }

    /** B = U·√Σ, A = √Σ·Vᵀ, padded with zeros when the matrix's size caps the rank below the target. */
    private static LoraDelta factors(String module, TruncatedSvd.Factors f, int rank) {
        float[] a = new float[rank * f.cols()];
        float[] b = new float[f.rows() * rank];
        for (int k = 0; k < f.k(); k++) {
            double root = Math.sqrt(f.sigma()[k]);
            for (int c = 0; c < f.cols(); c++) {
                a[k * f.cols() + c] = (float) (root * f.vt()[k * f.cols() + c]);
            }
            for (int r = 0; r < f.rows(); r++) {
                b[r * rank + k] = (float) (root * f.u()[r * f.k() + k]);
            }
        }
        return new LoraDelta(module, rank, f.cols(), f.rows(), a, b, 1.0);
    }
}
