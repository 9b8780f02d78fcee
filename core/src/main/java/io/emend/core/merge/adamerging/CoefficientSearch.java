package io.emend.core.merge.adamerging;

import io.emend.core.merge.AdaMerging;
import io.emend.core.merge.MergeException;
import io.emend.core.merge.ParameterValue;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.optim.AdamW;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * AdaMerging's search: Adam on the coefficients λ, each step projected back into the allowed range, minimizing
 * {@link EntropyObjective} plus the optional prior toward the start over batches of the recipe's unlabeled text
 * taken in turn. With a held-out part, its entropy is measured at the start and every few steps, the coefficients
 * where it was lowest are the result, and the search stops once it has not improved for a while. The entropy of the
 * adaptation sample is measured with the initial and with the learned coefficients, so the result shows what the
 * search gained on the text it adapted to.
 */
public final class CoefficientSearch {

    /** Told after each step; may throw to stop the search (a cancelled job). */
    @FunctionalInterface
    public interface Listener {
        void stepDone(int step, int steps, double batchEntropy);

        Listener NONE = (step, steps, entropy) -> {
        };
    }

    private CoefficientSearch() {
    }

    /**
     * Runs the search for an {@code adamerging} recipe.
     *
     * @param resolve turns the recipe's model references and its {@code text} reference into paths
     * @throws MergeException when the recipe uses slices or a reference cannot be read
     */
    public static LearnedCoefficients run(MergeRecipe recipe, Function<String, Path> resolve, Listener listener)
            throws IOException {
        AdaMergingSettings settings = AdaMergingSettings.of(recipe);
        if (recipe.sliced()) {
            throw new MergeException("adamerging learns coefficients for whole models; give models, not slices");
        }
        String baseRef = recipe.baseModel().orElseThrow(() -> new MergeException("adamerging needs base_model"));
        Map<String, Double> initialWeights = new LinkedHashMap<>();
        for (MergeRecipe.SliceSource s : recipe.slices().getFirst().sources()) {
            if (!s.model().equals(baseRef)) {
                initialWeights.putIfAbsent(s.model(), initialWeight(recipe, s));
            }
        }
        if (initialWeights.isEmpty()) {
            throw new MergeException("adamerging needs at least one model besides base_model");
        }
        Path textFile = resolve.apply(settings.text());
        if (textFile == null || !Files.isRegularFile(textFile)) {
            throw new MergeException("adamerging text '" + settings.text() + "' is not a readable file");
        }
        Path baseDir = resolve.apply(baseRef);
        TextSample.Split sample;
        try (Tokenizer tokenizer = Tokenizer.load(baseDir)) {
            sample = TextSample.split(Files.readString(textFile), tokenizer, settings.sequenceLength(),
                    settings.batchSize(), settings.sequences(), settings.heldOut());
        } catch (IllegalArgumentException e) {
            throw new MergeException("adamerging text '" + settings.text() + "': " + e.getMessage());
        }
        List<String> models = List.copyOf(initialWeights.keySet());
        List<Path> dirs = models.stream().map(resolve).toList();
        try (EntropyObjective objective = EntropyObjective.load(baseDir, dirs, settings.granularity())) {
            int groups = objective.groups().size();
            double[][] initial = new double[models.size()][groups];
            for (int k = 0; k < models.size(); k++) {
                double start = Math.clamp(initialWeights.get(models.get(k)) * settings.scale(), settings.minWeight(),
                        settings.maxWeight());
                java.util.Arrays.fill(initial[k], start);
            }
            return search(objective, sample, initial, settings, models, listener);
        }
    }

    /**
     * The search itself, over an opened objective and sample; {@code initial} is [models][groups]. Of the settings it
     * reads the steps, learning rate, prior, range and early stopping; the sample's held-out part, when present, is
     * what early stopping watches.
     */
    public static LearnedCoefficients search(EntropyObjective objective, TextSample.Split sample, double[][] initial,
                                             AdaMergingSettings settings, List<String> models, Listener listener) {
        int groups = objective.groups().size();
        double before = sampleEntropy(objective, sample.adapt(), initial);
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0);
        Map<String, float[]> values = new LinkedHashMap<>();
        float[] flat = new float[models.size() * groups];
        for (int k = 0; k < models.size(); k++) {
            for (int g = 0; g < groups; g++) {
                flat[k * groups + g] = (float) initial[k][g];
            }
        }
        values.put("lambda", flat);
        double[][] best = unflatten(flat, models.size(), groups);
        double heldBefore = sample.heldOut().map(h -> heldOut(objective, h, initial, settings)).orElse(Double.NaN);
        double heldBest = heldBefore;
        int sinceBest = 0;
        int taken = 0;
        // the prior is a mean over each model's groups, so its pull per model does not grow with the layer count
        double pull = settings.prior() / groups;
        for (int step = 0; step < settings.steps(); step++) {
            var batch = sample.adapt().batches().get(step % sample.adapt().batches().size());
            EntropyObjective.Evaluation e = objective.valueAndGradient(unflatten(flat, models.size(), groups), batch);
            float[] gradient = new float[flat.length];
            for (int k = 0; k < models.size(); k++) {
                for (int g = 0; g < groups; g++) {
                    double d = e.gradient()[k][g];
                    if (!Double.isFinite(d) || !Double.isFinite(e.entropy())) {
                        throw new MergeException("adamerging diverged at step " + (step + 1)
                                + ": the entropy or its gradient is not finite (lower lr)");
                    }
                    gradient[k * groups + g] = (float) (d + pull * (flat[k * groups + g] - initial[k][g]));
                }
            }
            adam.step(values, Map.of("lambda", gradient), settings.learningRate());
            project(flat, settings.minWeight(), settings.maxWeight());
            taken = step + 1;
            listener.stepDone(taken, settings.steps(), e.entropy());
            if (sample.heldOut().isEmpty()) {
                best = unflatten(flat, models.size(), groups);
            } else if (taken % settings.evalEvery() == 0 || taken == settings.steps()) {
                double[][] current = unflatten(flat, models.size(), groups);
                double held = heldOut(objective, sample.heldOut().get(), current, settings);
                if (held < heldBest) {
                    heldBest = held;
                    best = current;
                    sinceBest = 0;
                } else if (++sinceBest >= settings.patience()) {
                    break;
                }
            }
        }
        double after = sampleEntropy(objective, sample.adapt(), best);
        return new LearnedCoefficients(models, objective.groups(), initial, best, before, after, taken,
                sample.adapt().positions(), heldBefore, heldBest, settings.heldOutMeasure());
    }

    /**
     * Keeps every coefficient in [min, max] ([0, 1] by default, as the AdaMerging authors' implementation clamps
     * them): entropy alone rewards a confident model, and an unbounded search finds one by pushing a task vector
     * negative (measured on stories260k: λ = −0.29 on the WikiText vector, WikiText perplexity 962 against 45 for
     * task arithmetic).
     */
    static void project(float[] coefficients, double min, double max) {
        for (int i = 0; i < coefficients.length; i++) {
            coefficients[i] = (float) Math.clamp(coefficients[i], min, max);
        }
    }

    /** What early stopping watches, over every batch of the held-out sample. */
    static double heldOut(EntropyObjective objective, TextSample sample, double[][] lambda,
                          AdaMergingSettings settings) {
        return switch (settings.heldOutMeasure()) {
            case ENTROPY -> sampleEntropy(objective, sample, lambda);
            case NEXT_TOKEN_LOSS -> sampleNextTokenLoss(objective, sample, lambda);
        };
    }

    /** Mean next-token loss per predicted position over every batch of the sample, in nats. */
    public static double sampleNextTokenLoss(EntropyObjective objective, TextSample sample, double[][] lambda) {
        return overSample(sample, batch -> objective.nextTokenLoss(lambda, batch));
    }

    /** Mean entropy per position over every batch of the sample. */
    public static double sampleEntropy(EntropyObjective objective, TextSample sample, double[][] lambda) {
        return overSample(sample, batch -> objective.value(lambda, batch));
    }

    /** A per-batch mean made a mean over the whole sample, each batch weighted by its positions. */
    private static double overSample(TextSample sample,
                                     Function<io.emend.core.graph.TokenBatch, EntropyObjective.Evaluation> measure) {
        double sum = 0;
        long positions = 0;
        for (var b : sample.batches()) {
            EntropyObjective.Evaluation e = measure.apply(b);
            sum += e.entropy() * e.positions();
            positions += e.positions();
        }
        return sum / Math.max(1, positions);
    }

    private static double[][] unflatten(float[] flat, int models, int groups) {
        double[][] out = new double[models][groups];
        for (int k = 0; k < models; k++) {
            for (int g = 0; g < groups; g++) {
                out[k][g] = flat[k * groups + g];
            }
        }
        return out;
    }

    /** The model's own {@code weight}, else the top-level one, else the paper's 0.3. */
    private static double initialWeight(MergeRecipe recipe, MergeRecipe.SliceSource s) {
        for (Map<String, ParameterValue> level : List.of(s.parameters(), recipe.parameters())) {
            if (level.get("weight") instanceof ParameterValue.Scalar(double v)) {
                return v;
            }
        }
        return AdaMerging.DEFAULT_INITIAL_WEIGHT;
    }
}
