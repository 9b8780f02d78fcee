package io.emend.core.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.format.Fixtures;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.LogitsScope;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertTrue;

class Gpt2DefaultsTest {

    private static final Path GPT2 = Fixtures.model("tiny-gpt2");

    private static Transformer model;
    private static Tokenizer tokenizer;
    private static KeyStatistics stats;

    @BeforeAll
    static void load() throws IOException {
        model = Transformer.open(GPT2, Optional.empty());
        tokenizer = Tokenizer.load(GPT2);
        String text = Files.readString(Fixtures.root().resolve("text/wikitext-2-test.txt"));
        stats = KeyStatistics.compute(model, tokenizer, text, List.of(0, 1), 4000, Progress.NONE);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    private static EditRequest request(String prompt, String subject) {
        EditRequest probe = new EditRequest(prompt, subject, "R", Optional.of("O"), Optional.empty(),
                Optional.empty(), Optional.empty());
        boolean prefersR = CounterFactScores.measure(model, tokenizer, List.of(probe), ForwardOptions.defaults(),
                ForwardOptions.defaults()).edits().getFirst().efficacyBefore().orElseThrow().success();
        return new EditRequest(prompt, subject, prefersR ? "O" : "R", Optional.of(prefersR ? "R" : "O"),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    @ParameterizedTest
    @EnumSource(EditMethod.class)
    void probe(EditMethod method) {
        for (String[] ps : new String[][] {{"Norway is", "Norway"}, {"The capital of Norway", "Norway"}}) {
            EditRequest r = request(ps[0], ps[1]);
            KnowledgeEditor editor = EditDefaults.editor(method, model.config(), Optional.empty());
            List<PreparedEdit> prepared = PreparedEdit.prepare(List.of(r), tokenizer, model,
                    PreparedEdit.prefixes(model, tokenizer, 5, 10, 0), 10);
            EditDelta delta = editor.edit(model, EditDelta.empty(method.id()), prepared, stats, Progress.NONE);
            try (NDManager scope = NDManager.newBaseManager()) {
                ForwardOptions edited = delta.applyTo(ForwardOptions.defaults(), scope);
                CounterFactScores.EditScore s = CounterFactScores.measure(model, tokenizer, List.of(r),
                        ForwardOptions.defaults(), edited).edits().getFirst();
                double tv1 = tv("Paris is", edited, scope);
                double tv2 = tv("The weather in Rome", edited, scope);
                double own = tv(ps[0], edited, scope);
                System.out.println("PROBE " + method + " [" + ps[0] + "] " + s.efficacyBefore() + " -> " + s.efficacyAfter() + " own " + own + " tv " + tv1 + " " + tv2);
            }
        }
    }

    private static double tv(String prompt, ForwardOptions edited, NDManager scope) {
        float[] a = next(prompt, ForwardOptions.defaults(), scope);
        float[] b = next(prompt, edited, scope);
        double tv = 0;
        for (int i = 0; i < a.length; i++) {
            tv += Math.abs(Math.exp(a[i]) - Math.exp(b[i])) / 2;
        }
        return tv;
    }

    private static float[] next(String prompt, ForwardOptions options, NDManager scope) {
        return model.forward(scope, TokenBatch.of(tokenizer.encode(prompt, true)), options.withLogits(LogitsScope.LAST))
                .logits().logSoftmax(-1).toFloatArray();
    }
}
