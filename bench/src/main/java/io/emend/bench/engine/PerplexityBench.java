package io.emend.bench.engine;

import io.emend.core.eval.Perplexity;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Perplexity of the quantized engine at each weight format against its own F32, on a model and its text (by default
 * stories260k on {@code tinystories-valid.txt}), scored as the fixture's README defines it: documents split on blank
 * lines ({@link Perplexity#documents}), BOS each, every next-token prediction inside a document, exp of the
 * token-weighted mean NLL. Run by hand (see bench/RESULTS.md):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/emend-bench.jar:bench/target/lib/* \
 *     io.emend.bench.engine.PerplexityBench [--model ../shared/fixtures/stories260k] [--text FILE]
 *     [--quants "f32;f16;q8_0;q4_0;mixed"] [--threads 2]
 * </pre>
 */
public final class PerplexityBench {

    /** Documents' tokens per engine step: several documents share each pass over the weights. */
    private static final int TOKENS_PER_STEP = 2048;
    /** The issue's targets: relative perplexity increase over F32 allowed per format. */
    private static final Map<String, Double> TARGETS = Map.of("q8_0", 0.005, "q4_0", 0.03);

    private PerplexityBench() {
    }

    record Score(double meanNll, long predictions) {
        double perplexity() {
            return Math.exp(meanNll);
        }
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path model = Path.of(o.getOrDefault("model", "../shared/fixtures/stories260k"));
        Path text = Path.of(o.getOrDefault("text", model.resolve("tinystories-valid.txt").toString()));
        int threads = Integer.parseInt(o.getOrDefault("threads", "2"));
        // ';' between rules, since a rule itself may be a list (attention=q4_0,mlp=q4_0,head=q8_0)
        List<String> quants = List.of(o.getOrDefault("quants", "f32;f16;q8_0;q4_0;mixed").split(";"));
        List<int[]> docs = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(model)) {
            for (String d : Perplexity.documents(Files.readString(text))) {
                docs.add(tokenizer.encode(d, true));
            }
        }
        System.out.printf("perplexity bench: %s on %s, %d documents, %d threads%n", model.getFileName(),
                text.getFileName(), docs.size(), threads);
        System.out.println();
        System.out.println("| quant | mean NLL | perplexity | vs F32 | target | predictions | seconds |");
        System.out.println("|---|---|---|---|---|---|---|");
        Score f32 = null;
        for (String q : quants) {
            long start = System.nanoTime();
            Score s;
            try (Decoder decoder = Decoder.load(model, Optional.empty(), QuantRule.parse(q), threads)) {
                s = score(decoder, docs);
            }
            if (f32 == null && q.equals("f32")) {
                f32 = s;
            }
            double rel = f32 == null ? Double.NaN : s.perplexity() / f32.perplexity() - 1;
            Double target = TARGETS.get(q);
            System.out.printf("| %s | %.6f | %.4f | %+.3f%% | %s | %d | %.1f |%n", q, s.meanNll(), s.perplexity(),
                    100 * rel, target == null ? "" : (rel <= target ? "met" : "missed") + " (+" + 100 * target + "%)",
                    s.predictions(), (System.nanoTime() - start) / 1e9);
        }
    }

    /** Token-weighted mean NLL of every next-token prediction in every document. */
    static Score score(Decoder decoder, List<int[]> docs) {
        int context = decoder.config().maxPositions();
        double nll = 0;
        long predictions = 0;
        int next = 0;
        while (next < docs.size()) {
            List<Decoder.Chunk> chunks = new ArrayList<>();
            List<int[]> batch = new ArrayList<>();
            int tokens = 0;
            while (next < docs.size() && (chunks.isEmpty() || tokens + docs.get(next).length <= TOKENS_PER_STEP)) {
                int[] doc = docs.get(next++);
                if (doc.length < 2) {
                    continue;
                }
                if (doc.length > context) {
                    throw new IllegalArgumentException("a document of " + doc.length + " tokens exceeds the context of "
                            + context + "; this bench does not slide windows");
                }
                chunks.add(new Decoder.Chunk(decoder.newSequence(), doc, true));
                batch.add(doc);
                tokens += doc.length;
            }
            if (chunks.isEmpty()) {
                continue;
            }
            List<float[][]> logits = decoder.step(chunks);
            for (int d = 0; d < batch.size(); d++) {
                int[] doc = batch.get(d);
                float[][] rows = logits.get(d);
                for (int p = 0; p + 1 < doc.length; p++) {
                    nll += logSumExp(rows[p]) - rows[p][doc[p + 1]];
                    predictions++;
                }
            }
        }
        return new Score(nll / predictions, predictions);
    }

    static double logSumExp(float[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : v) {
            sum += Math.exp(x - max);
        }
        return max + Math.log(sum);
    }
}
