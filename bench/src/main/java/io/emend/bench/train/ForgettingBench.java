package io.emend.bench.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.FineTuneMetrics;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingData;
import io.emend.core.train.data.PackedSequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How much each anti-forgetting method keeps of what {@code stories260k} knew (TinyStories) while it learns a new
 * domain (WikiText), in one table.
 *
 * <p>Set-up, all from the shared fixtures: TinyStories ({@code stories260k/tinystories-valid.txt}, documents split
 * on blank lines) is divided by document parity: even documents are the earlier dataset (what the model was last
 * trained on, and the replay buffer), odd documents measure retention. The parent is stories260k plus a LoRA adapter
 * trained on the earlier dataset (stage 0), so that O-LoRA has an adapter in the lineage to stay orthogonal to;
 * every method starts from that same parent. WikiText ({@code text/wikitext-2-test.txt}, paragraphs of at least 60
 * characters, headings dropped, one {@code {"text"}} example each) is the new domain, 10% of its paragraphs held
 * out. Each method then trains the same number of steps with the same LoRA shape, learning rate and seed.
 *
 * <p>Reported per method: the WikiText held-out mean NLL before and after, its drop (the gain; also as a share of
 * plain LoRA's drop), the TinyStories retention perplexity before and after (exp of the mean NLL over every
 * prediction of the odd documents, each read alone after a BOS, as the fixture's reference perplexity is computed)
 * and its change. The target is a method whose TinyStories perplexity rises at most 2%
 * while its gain is at least 90% of plain LoRA's.
 *
 * <p>Arguments: {@code --fixtures DIR} ({@code ../shared/fixtures}), {@code --steps N} (200), {@code --lr X}
 * (3e-3), {@code --threads N} (1), {@code --only NAME,...} (run only the named rows, plain LoRA always included).
 */
public final class ForgettingBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SEQ = 128;
    private static final int BATCH = 8;
    private static final int RANK = 8;
    private static final long SEED = 42;

    private ForgettingBench() {
    }

    /**
     * One row of the table: a name, the anti-forgetting options it trains with, and a multiple of the base step count
     * (replay at fraction f over steps/(1-f) steps reads as many new-domain rows as plain LoRA does).
     */
    private record Variant(String name, FineTuneConfig.Forgetting forgetting, int stepsFactor) {

        Variant(String name, FineTuneConfig.Forgetting forgetting) {
            this(name, forgetting, 1);
        }
    }

    private record Result(Variant variant, FineTuneMetrics metrics, double retentionBefore, double retentionAfter,
                          double seconds) {
        double gain() {
            return metrics.heldOutLossBefore() - metrics.heldOutLossAfter();
        }

        double retentionChange() {
            return Math.exp(retentionAfter - retentionBefore) - 1;
        }
    }

    public static void main(String[] args) throws IOException {
        Path fixtures = Path.of("../shared/fixtures");
        int steps = 200;
        double lr = 3e-3;
        int threads = 1;
        List<String> only = List.of();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--lr" -> lr = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (expected --fixtures, --steps, --lr, --threads, --only)");
            }
        }
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Path work = Files.createTempDirectory("emend-forgetting-");
        Path model = fixtures.resolve("stories260k");
        Path earlier = work.resolve("tinystories-earlier.jsonl");
        Path retention = work.resolve("tinystories-retention.jsonl");
        Path wiki = work.resolve("wikitext.jsonl");
        writeTinyStories(model.resolve("tinystories-valid.txt"), earlier, retention);
        int paragraphs = writeWikiText(fixtures.resolve("text/wikitext-2-test.txt"), wiki);
        System.out.printf(Locale.ROOT, "stories260k; new domain: %d WikiText paragraphs (10%% held out); %d steps of "
                + "batch %d x %d tokens, LoRA r=%d alpha=%d on all projections, lr %.1e, seed %d, PyTorch threads %d;"
                + " load average %s%n", paragraphs, steps, BATCH, SEQ, RANK, 2 * RANK, lr, SEED, threads,
                loadAverage());

        List<Variant> variants = new ArrayList<>(List.of(
                new Variant("lora", FineTuneConfig.Forgetting.none()),
                new Variant("replay 0.25", new FineTuneConfig.Forgetting(0, 0.25, false, 0)),
                new Variant("replay 0.5", new FineTuneConfig.Forgetting(0, 0.5, false, 0)),
                new Variant("l2sp 1", new FineTuneConfig.Forgetting(1, 0, false, 0)),
                new Variant("l2sp 10", new FineTuneConfig.Forgetting(10, 0, false, 0)),
                new Variant("l2sp 100", new FineTuneConfig.Forgetting(100, 0, false, 0)),
                new Variant("hft", new FineTuneConfig.Forgetting(0, 0, true, 0)),
                new Variant("olora 1", new FineTuneConfig.Forgetting(0, 0, false, 1)),
                new Variant("olora 100", new FineTuneConfig.Forgetting(0, 0, false, 100)),
                new Variant("replay 0.5 + l2sp 10", new FineTuneConfig.Forgetting(10, 0.5, false, 0)),
                new Variant("replay 0.75", new FineTuneConfig.Forgetting(0, 0.75, false, 0)),
                new Variant("replay 0.5 (2x steps)", new FineTuneConfig.Forgetting(0, 0.5, false, 0), 2),
                new Variant("replay 0.75 (2x steps)", new FineTuneConfig.Forgetting(0, 0.75, false, 0), 2),
                new Variant("replay 0.75 (3x steps)", new FineTuneConfig.Forgetting(0, 0.75, false, 0), 3),
                new Variant("replay 0.75 (4x steps)", new FineTuneConfig.Forgetting(0, 0.75, false, 0), 4)));
        if (!only.isEmpty()) {
            List<String> wanted = only;
            variants.removeIf(v -> !v.name().equals("lora") && !wanted.contains(v.name()));
        }

        List<Result> results = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(model);
             Transformer transformer = Transformer.open(model, Optional.empty())) {
            List<PackedSequence> retentionRows = documents(tokenizer, retention);
            LoraDeltas parentAdapter = stageZero(tokenizer, transformer, earlier, lr);
            for (Variant v : variants) {
                int n = steps * v.stepsFactor();
                FineTuneConfig config = new FineTuneConfig(Method.LORA, RANK, 2 * RANK, List.of(), lr, 0, n / 20, n, 0,
                        BATCH, 1, SEQ, 1.0, SEED, 0.1, 0, v.forgetting());
                TrainingData data = TrainingData.load(tokenizer, wiki,
                        v.forgetting().replayFraction() > 0 ? List.of(earlier) : List.of(), config);
                long start = System.nanoTime();
                try (FineTuneJob job = new FineTuneJob(transformer, data, config, List.of(parentAdapter))) {
                    double before = job.evaluate(retentionRows, false);
                    FineTuneMetrics m = job.run(Optional.empty(), r -> { });
                    double after = job.evaluate(retentionRows, true);
                    Result r = new Result(v, m, before, after, (System.nanoTime() - start) / 1e9);
                    results.add(r);
                    System.out.printf(Locale.ROOT, "%-22s wiki NLL %.4f -> %.4f, TinyStories ppl %.4f -> %.4f "
                            + "(%+.2f%%), %.0f s%n", v.name(), m.heldOutLossBefore(), m.heldOutLossAfter(),
                            Math.exp(before), Math.exp(after), 100 * r.retentionChange(), r.seconds());
                }
            }
        }
        print(results);
        System.out.printf(Locale.ROOT, "load average at the end: %s%n", loadAverage());
    }

    /**
     * One row per retention document, as the fixture's reference perplexity is computed: BOS, then the document's
     * tokens, every prediction after the BOS counted, no EOS, no packing across documents.
     */
    private static List<PackedSequence> documents(Tokenizer tokenizer, Path jsonl) throws IOException {
        List<PackedSequence> rows = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            int[] ids = tokenizer.encode(JSON.readTree(line).get("text").textValue(), true);
            boolean[] targets = new boolean[ids.length];
            Arrays.fill(targets, 1, ids.length, true);
            if (ids.length >= 2) {
                rows.add(new PackedSequence(ids, targets));
            }
        }
        return rows;
    }

    /** The parent's own adapter: a short LoRA run on the earlier TinyStories documents. */
    private static LoraDeltas stageZero(Tokenizer tokenizer, Transformer model, Path earlier, double lr)
            throws IOException {
        FineTuneConfig c = new FineTuneConfig(Method.LORA, RANK, 2 * RANK, List.of(), lr / 3, 0, 5, 60, 0, BATCH, 1,
                SEQ, 1.0, SEED + 1, 0.1, 0, FineTuneConfig.Forgetting.none());
        TrainingData data = TrainingData.load(tokenizer, earlier, List.of(), c);
        try (FineTuneJob job = new FineTuneJob(model, data, c, List.of())) {
            FineTuneMetrics m = job.run(Optional.empty(), r -> { });
            System.out.printf(Locale.ROOT, "stage 0 (parent adapter on the earlier TinyStories documents): held-out "
                    + "NLL %.4f -> %.4f%n", m.heldOutLossBefore(), m.heldOutLossAfter());
            return job.adapter("stories260k");
        }
    }

    private static void print(List<Result> results) {
        Result plain = results.getFirst();
        System.out.println();
        System.out.println("| method | steps | WikiText held-out NLL before → after | gain (nats) | % of LoRA's gain "
                + "| TinyStories ppl before → after | change | target met | seconds |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        for (Result r : results) {
            double share = r.gain() / plain.gain();
            boolean met = r.retentionChange() <= 0.02 && share >= 0.9;
            System.out.printf(Locale.ROOT,
                    "| %s | %d | %.4f → %.4f | %.4f | %.0f%% | %.4f → %.4f | %+.2f%% | %s | %.0f |%n",
                    r.variant().name(), r.metrics().steps(), r.metrics().heldOutLossBefore(),
                    r.metrics().heldOutLossAfter(), r.gain(),
                    100 * share, Math.exp(r.retentionBefore()), Math.exp(r.retentionAfter()),
                    100 * r.retentionChange(), met ? "**yes**" : "no", r.seconds());
        }
    }

    /** TinyStories documents (split on blank lines): even ones to {@code earlier}, odd ones to {@code retention}. */
    private static void writeTinyStories(Path text, Path earlier, Path retention) throws IOException {
        String[] docs = Files.readString(text).split("\n\n");
        StringBuilder even = new StringBuilder();
        StringBuilder odd = new StringBuilder();
        int n = 0;
        for (String d : docs) {
            String doc = d.strip();
            if (doc.isEmpty()) {
                continue;
            }
            (n++ % 2 == 0 ? even : odd).append(JSON.writeValueAsString(Map.of("text", doc))).append('\n');
        }
        Files.writeString(earlier, even);
        Files.writeString(retention, odd);
    }

    /** WikiText paragraphs of at least 60 characters, headings dropped; returns how many. */
    private static int writeWikiText(Path text, Path out) throws IOException {
        List<String> lines = Files.readAllLines(text).stream().map(String::strip)
                .filter(l -> l.length() >= 60 && !l.startsWith("=")).toList();
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(JSON.writeValueAsString(Map.of("text", l))).append('\n');
        }
        Files.writeString(out, sb);
        return lines.size();
    }

    private static String loadAverage() {
        try {
            return String.join(" ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
        } catch (IOException e) {
            return "unknown";
        }
    }
}
