package io.emend.bench.merge;

import io.emend.core.delta.LoraDeltas;
import io.emend.core.eval.Perplexity;
import io.emend.core.graph.Transformer;
import io.emend.core.infer.QuantRule;
import io.emend.core.merge.lora.LoraAdapter;
import io.emend.core.merge.lora.QuantizedMaterializer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingData;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What materializing an adapter into a quantized base costs: a LoRA adapter trained on stories260k with core's
 * {@link FineTuneJob} (WikiText paragraphs, all seven projections), then, per serving rule, the held-out perplexity
 * of the adapter served unmerged over the quantized base ({@code x·Wq + s·(x·A)·B}) and of the materialized model
 * ({@code requantize(dequantize(Wq) + s·B·A)}), both through the graph on the dequantized served weights.
 *
 * <p>Arguments: {@code --fixtures DIR} (default {@code ../shared/fixtures}), {@code --train-steps N}, {@code --docs N}.
 */
public final class QuantizedMaterializeBench {

    private QuantizedMaterializeBench() {
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of("../shared/fixtures");
        int steps = 120;
        int docs = 150;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(args[i + 1]);
                case "--train-steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--docs" -> docs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (valid: --fixtures DIR, --train-steps N, --docs N)");
            }
        }
        Path base = fixtures.resolve("stories260k").toAbsolutePath();
        List<String> wiki = new ArrayList<>();
        for (String line : Files.readAllLines(fixtures.resolve("text/wikitext-2-test.txt"))) {
            String s = line.strip();
            if (s.length() > 200 && !s.startsWith("=")) {
                wiki.add(s);
            }
        }
        List<String> stories = Perplexity.documents(Files.readString(base.resolve("tinystories-valid.txt")));
        Path dir = Files.createTempDirectory("emend-quant-materialize-bench-");
        try {
            Path adapterDir = dir.resolve("adapter");
            long t0 = System.nanoTime();
            train(base, steps, wiki.subList(0, docs)).write(adapterDir);
            System.out.printf(Locale.ROOT, "LoRA r=8 on all projections, %d steps on %d WikiText paragraphs: %.1f s%n",
                    steps, docs, (System.nanoTime() - t0) / 1e9);
            LoraAdapter adapter = LoraAdapter.read(adapterDir);
            String heldWiki = String.join("\n\n", wiki.subList(docs, 2 * docs));
            String heldStories = String.join("\n\n", stories.subList(0, docs));
            System.out.println();
            System.out.println("| serving rule | held-out text | ppl base served | ppl adapter unmerged | ppl materialized | change |");
            System.out.println("|---|---|---|---|---|---|");
            for (String spec : List.of("f32", "q8_0", "mixed", "q4_0")) {
                QuantRule rule = QuantRule.parse(spec);
                Path out = dir.resolve("materialized-" + spec);
                QuantizedMaterializer.materialize(base, adapter, rule, out, Long.MAX_VALUE);
                for (String[] text : List.of(new String[] {"WikiText", heldWiki}, new String[] {"TinyStories", heldStories})) {
                    Path scratch = Files.createDirectories(dir.resolve("scratch-" + spec + "-" + text[0]));
                    QuantizedMaterializer.Report r = QuantizedMaterializer.measure(base, adapter, rule, out, text[1], scratch);
                    double baseServed;
                    try (Transformer t = Transformer.open(scratch.resolve("served-base"), Optional.empty());
                         Tokenizer tokenizer = Tokenizer.load(base)) {
                        baseServed = Perplexity.of(t, tokenizer, text[1]).perplexity();
                    }
                    System.out.printf(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.3f | %+.3f%% |%n", spec, text[0], baseServed,
                            r.unmerged(), r.materialized(), 100 * r.relativeChange());
                }
            }
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static LoraDeltas train(Path base, int steps, List<String> docs) throws Exception {
        FineTuneConfig config = new FineTuneConfig(Method.LORA, 8, 16,
                List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 3e-3, 0.0,
                Math.min(10, steps / 10), steps, 0, 8, 1, 128, 1.0, 42, 0.0, 0, FineTuneConfig.Forgetting.none());
        TrainingData data = DocumentData.of(base, docs, config.seqLen());
        try (Transformer model = Transformer.open(base, Optional.empty());
             FineTuneJob job = new FineTuneJob(model, data, config, List.of())) {
            job.run(Optional.empty(), r -> {
                if (r.step() % 20 == 0 || r.step() == r.totalSteps()) {
                    System.out.printf(Locale.ROOT, "  %s step %d/%d loss %.3f (%.1f s)%n", "lora", r.step(), r.totalSteps(),
                            r.loss(), r.elapsedNanos() / 1e9);
                }
            });
            return job.adapter("stories260k");
        }
    }
}
