package io.emend.core.merge.adamerging;

import io.emend.core.eval.Perplexity;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.FineTuneJob;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingData;
import io.emend.core.train.data.Packing;
import io.emend.core.train.data.TrainingExample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Two models fully fine-tuned from stories260k by core's {@link FineTuneJob}, one on TinyStories text and one on
 * WikiText, built once per test JVM (a few seconds) into a temporary directory: the situation AdaMerging is for.
 * Training uses the first part of each text; {@link #unlabeled} mixes later, unseen parts of both.
 */
final class FineTunedPair {

    static final Path BASE = Fixtures.model("stories260k");
    private static final int STEPS = 40;
    private static FineTunedPair instance;

    final Path stories;
    final Path wiki;
    final Path unlabeled;

    private FineTunedPair(Path root) throws IOException {
        List<String> storyDocs = Perplexity.documents(Files.readString(BASE.resolve("tinystories-valid.txt")));
        List<String> wikiDocs = wikiDocuments();
        stories = fineTune(storyDocs.subList(0, 200), root.resolve("stories"));
        wiki = fineTune(wikiDocs.subList(0, 200), root.resolve("wiki"));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            text.append(storyDocs.get(400 + i)).append("\n\n").append(wikiDocs.get(400 + i)).append("\n\n");
        }
        unlabeled = Files.writeString(root.resolve("unlabeled.txt"), text);
    }

    static synchronized FineTunedPair get() throws IOException {
        if (instance == null) {
            Path root = Files.createTempDirectory("adamerging-pair-");
            root.toFile().deleteOnExit();
            instance = new FineTunedPair(root);
        }
        return instance;
    }

    /** WikiText paragraphs (its lines of more than a few words), as documents. */
    static List<String> wikiDocuments() throws IOException {
        List<String> docs = new ArrayList<>();
        for (String line : Files.readAllLines(Fixtures.root().resolve("text/wikitext-2-test.txt"))) {
            String s = line.strip();
            if (s.length() > 200 && !s.startsWith("=")) {
                docs.add(s);
            }
        }
        return docs;
    }

    private static Path fineTune(List<String> docs, Path out) throws IOException {
        FineTuneConfig config = new FineTuneConfig(Method.FULL, 8, 16, List.of(), 2e-3, 0.0, 0, STEPS, 0, 4, 1, 64,
                1.0, 42, 0.0, 0, FineTuneConfig.Forgetting.none());
        List<TrainingExample> examples = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(BASE)) {
            for (int i = 0; i < docs.size(); i++) {
                int[] ids = tokenizer.encode(docs.get(i), true);
                boolean[] targets = new boolean[ids.length];
                java.util.Arrays.fill(targets, 1, targets.length, true);
                examples.add(new TrainingExample(ids, targets, i + 1));
            }
        }
        TrainingData data = new TrainingData(Packing.pack(examples, config.seqLen()), List.of(), List.of(),
                examples.size());
        try (Transformer model = Transformer.open(BASE, Optional.empty());
             FineTuneJob job = new FineTuneJob(model, data, config, List.of())) {
            job.run(Optional.empty(), r -> { });
            job.writeMerged(BASE, out);
        }
        return out;
    }
}
