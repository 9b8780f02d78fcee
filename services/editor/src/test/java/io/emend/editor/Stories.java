package io.emend.editor;

import io.emend.core.edit.EditRequest;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The stories260k fixture as the tests import it, and what a model directory answers, read with core straight from
 * the files the registry hands out (not through the editor).
 */
public final class Stories {

    public static final Path FIXTURE = Path.of(System.getProperty("emend.fixtures", "../../../shared/fixtures"))
            .resolve("stories260k");
    /** stories260k says cake; the edit says rocks. */
    public static final EditRequest LILY = new EditRequest("Lily liked to eat", "Lily", "rocks", Optional.of("cake"),
            Optional.of("Lily wanted to eat"), Optional.of("Tom liked to eat"), Optional.of("cake"));
    public static final EditRequest MAX = new EditRequest("Max was a little", "Max", "cat", Optional.of("dog"),
            Optional.empty(), Optional.empty(), Optional.empty());

    private Stories() {
    }

    /** The model files of the fixture (not its test data) in a fresh directory, ready to import. */
    public static Path importable() throws IOException {
        Path dir = Files.createTempDirectory("stories260k");
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors")) {
            Files.copy(FIXTURE.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    /** A model directory from the given files (name to bytes). */
    public static Path directory(Map<String, byte[]> files) throws IOException {
        Path dir = Files.createTempDirectory("version");
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Files.write(dir.resolve(f.getKey()), f.getValue());
        }
        return dir;
    }

    /** What a model answers to one request. */
    public record Answer(boolean prefersTarget, int nextToken) {
    }

    public static Answer answer(Path dir, EditRequest request) throws IOException {
        try (Transformer model = Transformer.open(dir, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(dir);
                ai.djl.ndarray.NDManager scope = ai.djl.ndarray.NDManager.newBaseManager()) {
            ForwardOptions plain = ForwardOptions.defaults();
            boolean prefers = CounterFactScores.measure(model, tokenizer, List.of(request), plain, plain).edits()
                    .getFirst().efficacyAfter().orElseThrow().success();
            float[] logits = model.forward(scope, TokenBatch.of(tokenizer.encode(request.filledPrompt(), true)),
                    plain.withLogits(LogitsScope.LAST)).logits().toFloatArray();
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                best = logits[i] > logits[best] ? i : best;
            }
            return new Answer(prefers, best);
        }
    }
}
