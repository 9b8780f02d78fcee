package io.emend.core.train.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.graph.Constant;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.model.Gpt2Config;
import io.emend.core.train.TrainableParameters;
import io.emend.core.train.forgetting.HalfFineTuning;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trainable LoRA or DoRA factors for the target projections of a frozen model.
 *
 * <p>Initialization follows PEFT's default so that step 0 is exactly the base model: A (PEFT's {@code [r, in]}) is
 * uniform on {@code ±1/√in}, which is what {@code kaiming_uniform_(a=√5)} gives; B is zero; DoRA's magnitude starts at
 * the norm of each output's weights, so {@code W' = W}. A is drawn from the run's seed module by module in model
 * order, whether or not HFT freezes the module, so the seed alone fixes every initial value.
 *
 * <p>Arrays are kept in the graph's orientation: {@code a} {@code [in, r]} = Aᵀ, {@code b} {@code [r, out]} = Bᵀ.
 */
public final class AdapterParameters implements TrainableParameters {

    private final NDManager manager = NDManager.newBaseManager();
    private final Transformer model;
    private final int rank;
    private final double alpha;
    private final boolean dora;
    private final double dropout;
    private final List<String> targets;
    private final List<Slot> slots = new ArrayList<>();
    private final Map<String, NDArray> trainable = new LinkedHashMap<>();

    /**
     * One adapted projection.
     *
     * @param weight the adapted weight's name
     * @param a      [in, r]
     * @param b      [r, out]
     * @param m      [out] DoRA magnitude, or null
     * @param frozen HFT left it at its initial (identity) value
     * @param priorA [in, Σ r_old] the prior adapters' A for O-LoRA, transposed and side by side; or null
     */
    private record Slot(String weight, int in, int out, NDArray a, NDArray b, NDArray m, boolean frozen,
                        NDArray priorA) {
    }

    /** Adapter factors without LoRA dropout. */
    public AdapterParameters(Transformer model, int rank, double alpha, boolean dora, List<String> targets,
                             boolean halfFineTuning, long seed, List<LoraDeltas> priorAdapters) {
        this(model, rank, alpha, dora, 0, targets, halfFineTuning, seed, priorAdapters);
    }

    /**
     * @param dropout       LoRA dropout p on each adapter's input in training forwards (plain LoRA only)
     * @param targets       module names to adapt (empty: the family's default)
     * @param priorAdapters adapters already in the lineage, for O-LoRA's penalty (their modules are matched by name)
     */
    public AdapterParameters(Transformer model, int rank, double alpha, boolean dora, double dropout,
                             List<String> targets, boolean halfFineTuning, long seed, List<LoraDeltas> priorAdapters) {
        if (dora && dropout > 0) {
            throw new IllegalArgumentException("LoRA dropout applies to plain LoRA, not DoRA");
        }
        this.model = model;
        this.rank = rank;
        this.alpha = alpha;
        this.dora = dora;
        this.dropout = dropout;
        this.targets = targets.isEmpty() ? LoraTargets.defaults(model) : List.copyOf(targets);
        List<String> weights = LoraTargets.resolve(model, this.targets);
        boolean[] frozen = HalfFineTuning.frozen(weights.size(), halfFineTuning, seed);
        SplittableRandom random = new SplittableRandom(seed);
        try {
            for (int i = 0; i < weights.size(); i++) {
                String w = weights.get(i);
                Shape shape = model.parameter(w).getShape();
                int in = (int) shape.get(0);
                int out = (int) shape.get(1);
                double bound = 1 / Math.sqrt(in);
                float[] aPeft = new float[rank * in]; // [r, in]
                for (int k = 0; k < aPeft.length; k++) {
                    aPeft[k] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
                NDArray a = manager.create(transpose(aPeft, rank, in), new Shape(in, rank));
                NDArray b = manager.zeros(new Shape(rank, out), DataType.FLOAT32);
                NDArray m = dora ? manager.create(columnNorms(model.parameter(w).toFloatArray(), in, out)) : null;
                String module = LoraTargets.moduleOf(w);
                if (!frozen[i]) {
                    register(module + ".lora_A", a);
                    register(module + ".lora_B", b);
                    if (m != null) {
                        register(module + ".lora_magnitude_vector", m);
                    }
                }
                slots.add(new Slot(w, in, out, a, b, m, frozen[i], priorA(module, in, priorAdapters)));
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private void register(String name, NDArray leaf) {
        leaf.setRequiresGradient(true);
        trainable.put(name, leaf);
    }

    private NDArray priorA(String module, int in, List<LoraDeltas> priors) {
        List<float[]> columns = new ArrayList<>();
        int total = 0;
        for (LoraDeltas p : priors) {
            LoraDeltas.Module m = p.modules().get(module);
            if (m != null) {
                if (m.in() != in) {
                    throw new IllegalArgumentException("prior adapter module " + module + " has " + m.in()
                            + " inputs, the model has " + in);
                }
                columns.add(m.a());
                total += m.rank();
            }
        }
        if (columns.isEmpty()) {
            return null;
        }
        float[] stacked = new float[total * in]; // [Σ r_old, in], then transposed
        int at = 0;
        for (float[] c : columns) {
            System.arraycopy(c, 0, stacked, at, c.length);
            at += c.length;
        }
        return manager.create(transpose(stacked, total, in), new Shape(in, total));
    }

    /** ‖W[:, j]‖ over the input axis for a weight stored [in, out]: DoRA's initial magnitude. */
    static float[] columnNorms(float[] w, int in, int out) {
        double[] sum = new double[out];
        for (int i = 0; i < in; i++) {
            for (int j = 0; j < out; j++) {
                double v = w[i * out + j];
                sum[j] += v * v;
            }
        }
        float[] norms = new float[out];
        for (int j = 0; j < out; j++) {
            norms[j] = (float) Math.sqrt(sum[j]);
        }
        return norms;
    }

    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }

    public double scale() {
        return alpha / rank;
    }

    @Override
    public Map<String, NDArray> arrays() {
        return trainable;
    }

    @Override
    public Map<String, List<WeightDelta>> deltas(NDManager step) {
        return deltas(step, 0);
    }

    @Override
    public Map<String, List<WeightDelta>> trainingDeltas(NDManager step) {
        return deltas(step, dropout);
    }

    private Map<String, List<WeightDelta>> deltas(NDManager step, double p) {
        Map<String, List<WeightDelta>> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            if (s.frozen()) {
                continue; // B = 0 (and m = ‖W‖): the module is the parent's
            }
            WeightDelta d = dora
                    ? new WeightDelta.Dense(doraDelta(step, s))
                    : new WeightDelta.LowRank(s.a(), s.b(), scale(), p);
            out.put(s.weight(), List.of(d));
        }
        return out;
    }

    private NDArray doraDelta(NDManager step, Slot s) {
        return LoraDeltas.doraDelta(model.parameter(s.weight()), TrainableParameters.inScope(step, s.a()), s.b(), s.m(),
                scale());
    }

    @Override
    public NDArray squaredDistanceFromParent(NDManager step) {
        NDArray sum = step.zeros(new Shape());
        for (Slot s : slots) {
            if (s.frozen()) {
                continue;
            }
            if (dora) {
                sum = sum.add(doraDelta(step, s).square().sum());
            } else {
                // ‖s·a·b‖² = s²·Σ (aᵀa) ⊙ (b·bᵀ): two r×r products instead of the in×out matrix
                NDArray a = TrainableParameters.inScope(step, s.a());
                NDArray b = TrainableParameters.inScope(step, s.b());
                NDArray ata = a.transpose().matMul(a);
                NDArray bbt = b.matMul(b.transpose());
                sum = sum.add(ata.mul(bbt).sum().mul(Constant.of(ata, scale() * scale())));
            }
        }
        return sum;
    }

    @Override
    public NDArray overlapWithPrior(NDManager step) {
        NDArray sum = step.zeros(new Shape());
        for (Slot s : slots) {
            if (s.frozen() || s.priorA() == null) {
                continue;
            }
            NDArray a = TrainableParameters.inScope(step, s.a());
            sum = sum.add(a.transpose().matMul(s.priorA()).square().sum());
        }
        return sum;
    }

    /** The adapter in PEFT's layout (frozen HFT modules included, with B = 0). */
    public LoraDeltas toLoraDelta(String baseModel) {
        Map<String, LoraDeltas.Module> modules = new LinkedHashMap<>();
        for (Slot s : slots) {
            String name = LoraTargets.moduleOf(s.weight());
            modules.put(name, new LoraDeltas.Module(name, s.in(), s.out(),
                    transpose(s.a().toFloatArray(), s.in(), rank), transpose(s.b().toFloatArray(), rank, s.out()),
                    s.m() == null ? null : s.m().toFloatArray()));
        }
        boolean conv1d = model.config() instanceof Gpt2Config;
        return new LoraDeltas(LoraDeltas.peftConfig(baseModel, rank, alpha, dropout, targets, dora, conv1d), dora,
                modules);
    }

    @Override
    public void close() {
        manager.close();
    }
}
