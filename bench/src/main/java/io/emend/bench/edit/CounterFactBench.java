package io.emend.bench.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditDefaults;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.EditRequests;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.alphaedit.AlphaEditParams;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.eval.EditEvaluation;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * CounterFact on stories260k as it is: the first N cases of {@code counterfact-1k.json} edited in one call per
 * (method, N), each from the unedited model, then scored (efficacy, paraphrase, neighborhood, held-out perplexity)
 * with wall time and edits/s of the edit itself. Key statistics over the first 50,000 tokens of the TinyStories
 * validation text; held-out perplexity on its last 20,000 characters.
 *
 * <pre>
 * java -cp "bench/target/classes:bench/target/lib/*" io.emend.bench.edit.CounterFactBench \
 *     --fixtures ../shared/fixtures --methods memit,alphaedit,rome --counts 1,10,100 [--alphaedit-batch 10]
 * </pre>
 */
public final class CounterFactBench {

    private CounterFactBench() {
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of("../shared/fixtures");
        List<String> methods = List.of("memit", "alphaedit");
        List<Integer> counts = List.of(1, 10, 100);
        int alphaBatch = 10;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(args[i + 1]);
                case "--methods" -> methods = List.of(args[i + 1].split(","));
                case "--counts" -> counts = Arrays.stream(args[i + 1].split(",")).map(Integer::parseInt).toList();
                case "--alphaedit-batch" -> alphaBatch = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = fixtures.resolve("stories260k");
        List<EditRequest> all = EditRequests.read(fixtures.resolve("data/counterfact-1k.json"));
        String text = Files.readString(dir.resolve("tinystories-valid.txt"));
        String heldOut = text.substring(text.length() - 20_000);
        try (Transformer model = Transformer.open(dir, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(dir)) {
            long t0 = System.nanoTime();
            List<Integer> layers = java.util.stream.IntStream.range(0, model.layers()).boxed().toList();
            KeyStatistics stats = KeyStatistics.compute(model, tokenizer, text.substring(0, text.length() - 20_000),
                    layers, 50_000, Progress.NONE);
            System.out.printf("key statistics: %d tokens, %.1f s%n", stats.tokens(), (System.nanoTime() - t0) / 1e9);
            List<String> prefixes = PreparedEdit.prefixes(model, tokenizer, 5, 10, 0);
            EditRun.header(System.out);
            for (String name : methods) {
                for (int n : counts) {
                    EditMethod method = EditMethod.parse(name);
                    KnowledgeEditor editor = EditDefaults.editor(method, model.config(), Optional.empty());
                    if (editor instanceof AlphaEditor a) {
                        AlphaEditParams p = a.params();
                        editor = new AlphaEditor(new AlphaEditParams(p.memit(), p.nullSpaceEnergy(),
                                p.regularization(), alphaBatch));
                    }
                    List<EditRequest> requests = new ArrayList<>(all.subList(0, n));
                    List<PreparedEdit> prepared = PreparedEdit.prepare(requests, tokenizer, model, prefixes,
                            EditDefaults.MAX_EDITS);
                    long start = System.nanoTime();
                    EditDelta delta = editor.edit(model, EditDelta.empty(name), prepared, stats, Progress.NONE);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    String loadAfter = FactModelBench.load();
                    EditEvaluation e = EditEvaluation.measure(model, tokenizer, requests, delta, Optional.of(heldOut),
                            Math.min(n, 10));
                    new EditRun(name + (method == EditMethod.ALPHAEDIT ? " ×" + alphaBatch : ""), editor.layers(),
                            editor instanceof io.emend.core.edit.memit.MemitEditor m
                                    ? m.params().covarianceWeight() : Double.NaN, n, e, seconds, loadAfter)
                            .print(System.out);
                }
            }
        }
    }
}
