package io.emend.bench.merge;

import io.emend.core.eval.Perplexity;
import io.emend.core.graph.Transformer;
import io.emend.core.merge.adamerging.LearnedCoefficients;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.plan.MergeProgress;
import io.emend.core.merge.recipe.RecipeParser;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * AdaMerging's gain over task arithmetic on two models fine-tuned from one base: stories260k fine-tuned (core's
 * {@link FineTuneJob}, full or LoRA merged into the weights) on TinyStories text and on WikiText text. Each text is
 * cut into three disjoint parts by document: training, AdaMerging's unlabeled adaptation text (both domains mixed),
 * and held-out evaluation. Every model is scored by perplexity on each domain's held-out part; the table prints
 * the ratios to task arithmetic at AdaMerging's starting λ = 0.3.
 *
 * <p>Arguments: {@code --fixtures DIR} (default {@code ../shared/fixtures}), {@code --method full|lora},
 * {@code --train-steps N}, {@code --ada-steps N}, {@code --docs N} (documents per part and domain).
 */
public final class AdaMergingBench {

    private AdaMergingBench() {
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of("../shared/fixtures");
        Method method = Method.FULL;
        int trainSteps = 150;
        int adaSteps = 60;
        int docs = 150;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(args[i + 1]);
                case "--method" -> method = Method.parse(args[i + 1]);
                case "--train-steps" -> trainSteps = Integer.parseInt(args[i + 1]);
                case "--ada-steps" -> adaSteps = Integer.parseInt(args[i + 1]);
                case "--docs" -> docs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (valid: --fixtures DIR,"
                        + " --method full|lora, --train-steps N, --ada-steps N, --docs N)");
            }
        }
        Path base = fixtures.resolve("stories260k").toAbsolutePath();
        List<String> stories = Perplexity.documents(Files.readString(base.resolve("tinystories-valid.txt")));
        List<String> wiki = new ArrayList<>();
        for (String line : Files.readAllLines(fixtures.resolve("text/wikitext-2-test.txt"))) {
            String s = line.strip();
            if (s.length() > 200 && !s.startsWith("=")) {
                wiki.add(s);
            }
        }
        if (stories.size() < 3 * docs || wiki.size() < 3 * docs) {
            throw new IllegalArgumentException("--docs " + docs + " needs " + 3 * docs + " documents per text; have "
                    + stories.size() + " stories and " + wiki.size() + " wiki paragraphs");
        }
        Path dir = Files.createTempDirectory("emend-adamerging-bench-");
        try {
            run(dir, base, method, trainSteps, adaSteps, docs, stories, wiki);
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(Path dir, Path base, Method method, int trainSteps, int adaSteps, int docs,
                            List<String> stories, List<String> wiki) throws Exception {
        System.out.printf(Locale.ROOT, "stories260k fine-tuned (%s, %d steps) on TinyStories and on WikiText; %d documents"
                + " per part and domain; AdaMerging %d steps%n", method.name().toLowerCase(Locale.ROOT), trainSteps,
                docs, adaSteps);
        long t0 = System.nanoTime();
        Path storiesModel = fineTune(base, method, trainSteps, stories.subList(0, docs), dir.resolve("stories"));
        Path wikiModel = fineTune(base, method, trainSteps, wiki.subList(0, docs), dir.resolve("wiki"));
        System.out.printf(Locale.ROOT, "fine-tuned both in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        StringBuilder unlabeled = new StringBuilder();
        for (int i = docs; i < 2 * docs; i++) {
            unlabeled.append(stories.get(i)).append("\n\n").append(wiki.get(i)).append("\n\n");
        }
        Files.writeString(dir.resolve("unlabeled.txt"), unlabeled);
        String heldStories = String.join("\n\n", stories.subList(2 * docs, 3 * docs));
        String heldWiki = String.join("\n\n", wiki.subList(2 * docs, 3 * docs));

        Map<String, Path> models = new LinkedHashMap<>();
        models.put("base (stories260k)", base);
        models.put("fine-tuned on TinyStories", storiesModel);
        models.put("fine-tuned on WikiText", wikiModel);
        for (double lambda : new double[] {0.3, 0.5, 1.0}) {
            models.put(String.format(Locale.ROOT, "task arithmetic λ=%.1f", lambda), merge(dir, "ta-" + lambda, """
                    merge_method: task_arithmetic
                    base_model: %s
                    parameters: {weight: %s}
                    models: [{model: %s}, {model: %s}]
                    """.formatted(base, lambda, storiesModel, wikiModel)));
        }
        // the paper's plain entropy search, then the defaults (prior toward the start, held-out early stopping)
        Map<String, String> variants = new LinkedHashMap<>();
        variants.put("paper: prior 0, no held-out", "prior: 0\n  held_out: 0");
        variants.put("prior 4, early stop on held-out entropy", "held_out_measure: entropy");
        variants.put("defaults: prior 4, early stop on held-out next-token loss", "");
        for (String granularity : List.of("task", "layer")) {
            for (Map.Entry<String, String> variant : variants.entrySet()) {
                long s0 = System.nanoTime();
                String name = "ada-" + granularity + "-" + models.size();
                Path out = merge(dir, name, """
                        merge_method: adamerging
                        base_model: %s
                        models: [{model: %s}, {model: %s}]
                        parameters:
                          granularity: %s
                          steps: %d
                          lr: 0.02
                          text: %s
                          sequence_length: 128
                          batch_size: 8
                          sequences: 256
                          %s
                        """.formatted(base, storiesModel, wikiModel, granularity, adaSteps,
                        dir.resolve("unlabeled.txt"), variant.getValue()));
                String learned = Files.readString(out.resolve(LearnedCoefficients.FILE_NAME));
                System.out.printf(Locale.ROOT, "adamerging %s-wise (%s) in %.1f s: %s%n", granularity,
                        variant.getKey(), (System.nanoTime() - s0) / 1e9, summary(learned));
                models.put("AdaMerging " + granularity + "-wise, " + variant.getKey(), out);
            }
        }
        System.out.println();
        System.out.println("| model | ppl TinyStories held-out | ppl WikiText held-out | mean | vs task arithmetic λ=0.3 (mean) |");
        System.out.println("|---|---|---|---|---|");
        double reference = Double.NaN;
        try (Tokenizer tokenizer = Tokenizer.load(base)) {
            for (Map.Entry<String, Path> e : models.entrySet()) {
                double ps;
                double pw;
                try (Transformer t = Transformer.open(e.getValue(), Optional.empty())) {
                    ps = Perplexity.of(t, tokenizer, heldStories).perplexity();
                    pw = Perplexity.of(t, tokenizer, heldWiki).perplexity();
                }
                double mean = (ps + pw) / 2;
                if (e.getKey().equals("task arithmetic λ=0.3")) {
                    reference = mean;
                }
                System.out.printf(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %s |%n", e.getKey(), ps, pw, mean,
                        Double.isNaN(reference) ? "" : String.format(Locale.ROOT, "%.3f", mean / reference));
            }
        }
    }

    private static String summary(String json) throws IOException {
        var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%d steps, entropy %.4f -> %.4f",
                node.get("steps").asInt(), node.get("entropy_before").asDouble(), node.get("entropy_after").asDouble()));
        if (node.has("held_out_before")) {
            s.append(String.format(Locale.ROOT, ", held-out %s %.4f -> %.4f", node.get("held_out_measure").asText(),
                    node.get("held_out_before").asDouble(), node.get("held_out_after").asDouble()));
        }
        s.append("; λ");
        for (var m : node.get("models")) {
            s.append(" [");
            for (var c : m.get("coefficients")) {
                s.append(String.format(Locale.ROOT, " %.3f", c.get("learned").asDouble()));
            }
            s.append(" ]");
        }
        return s.toString();
    }

    private static Path merge(Path dir, String name, String recipe) throws IOException {
        Path file = Files.writeString(dir.resolve(name + ".yml"), recipe);
        Path out = dir.resolve(name);
        try (MergePlan plan = MergePlan.create(RecipeParser.read(file), Path::of)) {
            MergeExecutor.run(plan, out, MergeExecutor.Options.defaults(), MergeProgress.NONE);
        }
        return out;
    }

    private static Path fineTune(Path base, Method method, int steps, List<String> docs, Path out) throws IOException {
        FineTuneConfig config = new FineTuneConfig(method, 16, 32, List.of(), method == Method.FULL ? 1e-3 : 3e-3, 0.0,
                Math.min(10, steps / 10), steps, 0, 8, 1, 128, 1.0, 42, 0.0, 0, FineTuneConfig.Forgetting.none());
        TrainingData data = DocumentData.of(base, docs, config.seqLen());
        try (Transformer model = Transformer.open(base, Optional.empty());
             FineTuneJob job = new FineTuneJob(model, data, config, List.of())) {
            job.run(Optional.empty(), r -> {
                if (r.step() % 20 == 0 || r.step() == r.totalSteps()) {
                    System.out.printf(Locale.ROOT, "  %s step %d/%d loss %.3f (%.1f s)%n", out.getFileName(), r.step(), r.totalSteps(),
                            r.loss(), r.elapsedNanos() / 1e9);
                }
            });
            job.writeMerged(base, out);
        }
        return out;
    }
}
