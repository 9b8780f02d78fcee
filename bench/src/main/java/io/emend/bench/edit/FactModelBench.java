package io.emend.bench.edit;

import io.emend.core.delta.EditDelta;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.edit.EditDefaults;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.TargetValue;
import io.emend.core.edit.alphaedit.AlphaEditParams;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.edit.memit.MemitEditor;
import io.emend.core.edit.memit.MemitParams;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.eval.EditEvaluation;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.FineTuneMetrics;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Editing a model that knows its facts: Emend trains a small random-initialised Llama on a {@link FactCorpus}
 * ({@link FactModel}, full fine-tuning with {@code core.train}), reports how well it knows them (trained phrasings and
 * the held-out one), then rewrites 1, 10, 100 and 1,000 of them (MEMIT in one batch, AlphaEdit in sequential batches
 * of 100), each run from the unedited model: efficacy, paraphrase (held-out phrasing), neighborhood (a never-edited
 * person's same relation), perplexity change on the never-edited people's sentences, fluency, wall time and edits/s.
 * With {@code --retention N} the N-edit MEMIT and AlphaEdit results are also checked after Q8_0/Q4_0 quantization and
 * after a merge ({@link EditRetention}).
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp "bench/target/classes:bench/target/lib/*" io.emend.bench.edit.FactModelBench \
 *     --fixtures ../shared/fixtures --work /tmp/fact-bench [--editable 1000 --neighbors 200] \
 *     [--hidden 256 --intermediate 1024 --layers 4 --epochs 40 --lr 2e-3 --batch 16] \
 *     [--counts 1,10,100,1000] [--methods memit,alphaedit] [--lambda F[,F...]] [--clamp C]
 *     [--edit-layers 0,1,2[/1,2...]]
 *     [--retention N] [--short-names | --name-tokens] [--subject-last] [--trace N] [--train-only]
 * </pre>
 * Names are invented syllables unless {@code --short-names} (known words, {@link FactCorpus.Names#WORDS}) or
 * {@code --name-tokens} (a family name that is one token of its own, {@link FactCorpus.Names#TOKEN}); the phrasings put
 * the subject first unless {@code --subject-last} ({@link FactCorpus.Phrasing#SUBJECT_LAST}: relation first, subject
 * last, values with distinct first tokens). With {@code --trace N} a {@link CausalTrace} of N facts the model knows is
 * printed before the edits; {@code --train-only} stops after it. Several λ factors and layer ranges run every
 * combination; MEMIT finds its targets once per count and last layer for them. The corpus has {@code editable + neighbors} people; counts above {@code editable} are skipped. The trained model is
 * kept under {@code WORK} (named by its shape and training settings) and reused by later runs.
 */
public final class FactModelBench {


    private FactModelBench() {
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = Path.of("../shared/fixtures");
        Path work = Path.of("target/fact-bench");
        List<String> methods = List.of("memit", "alphaedit");
        List<Integer> counts = List.of(1, 10, 100, 1000);
        int hidden = 256;
        int intermediate = 1024;
        int layers = 4;
        int epochs = 40;
        double lr = 2e-3;
        List<Optional<List<Integer>>> layerSets = List.of(Optional.empty());
        List<Double> lambdaFactors = List.of(Double.NaN);
        double clamp = Double.NaN;
        int retention = 0;
        boolean trainOnly = false;
        int batch = 16;
        FactCorpus.Names names = FactCorpus.Names.SYLLABLES;
        FactCorpus.Phrasing phrasing = FactCorpus.Phrasing.SUBJECT_FIRST;
        int editable = 1000;
        int neighbors = 200;
        int trace = 0;
        for (int i = 0; i < args.length; i += 2) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(v);
                case "--work" -> work = Path.of(v);
                case "--methods" -> methods = List.of(v.split(","));
                case "--counts" -> counts = Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
                case "--hidden" -> hidden = Integer.parseInt(v);
                case "--intermediate" -> intermediate = Integer.parseInt(v);
                case "--layers" -> layers = Integer.parseInt(v);
                case "--epochs" -> epochs = Integer.parseInt(v);
                case "--lr" -> lr = Double.parseDouble(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--edit-layers" -> layerSets = Arrays.stream(v.split("/")).map(set -> Optional.of(
                        Arrays.stream(set.split(",")).map(Integer::parseInt).toList())).toList();
                case "--lambda" -> lambdaFactors = Arrays.stream(v.split(",")).map(Double::parseDouble).toList();
                case "--clamp" -> clamp = Double.parseDouble(v);
                case "--retention" -> retention = Integer.parseInt(v);
                case "--editable" -> editable = Integer.parseInt(v);
                case "--neighbors" -> neighbors = Integer.parseInt(v);
                case "--trace" -> trace = Integer.parseInt(v);
                case "--short-names" -> {
                    names = FactCorpus.Names.WORDS;
                    i--;
                }
                case "--subject-last" -> {
                    phrasing = FactCorpus.Phrasing.SUBJECT_LAST;
                    i--;
                }
                case "--name-tokens" -> {
                    names = FactCorpus.Names.TOKEN;
                    i--;
                }
                case "--train-only" -> {
                    trainOnly = true;
                    i--;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        int people = editable + neighbors;
        FactCorpus corpus = FactCorpus.generate(people, 7, names, phrasing);
        FactModel shape = new FactModel(hidden, intermediate, layers, 4);
        Path trained = work.resolve("fact-model-p" + people + "-" + hidden + "x" + intermediate + "x" + layers + "-e" + epochs + "-lr"
                + lr + "-b" + batch + switch (names) {
                    case SYLLABLES -> "";
                    case WORDS -> "-short";
                    case TOKEN -> "-tok";
                } + (phrasing == FactCorpus.Phrasing.SUBJECT_LAST ? "-subjlast" : ""));
        System.out.printf("machine: %d cores, load %s%n", Runtime.getRuntime().availableProcessors(), load());
        if (!Files.exists(trained.resolve("config.json"))) {
            Path init = work.resolve(trained.getFileName() + "-init");
            shape.initialize(fixtures.resolve("stories260k"), init, 1,
                    names == FactCorpus.Names.TOKEN ? corpus.familyTokens() : List.of());
            List<String> sentences = corpus.trainingSentences();
            System.out.printf("training %s on %d sentences (%d people x %d relations x %d phrasings), %d epochs%n",
                    shape, sentences.size(), people, FactCorpus.Relation.values().length,
                    FactCorpus.TRAINING_TEMPLATES, epochs);
            long t0 = System.nanoTime();
            FineTuneMetrics m = FactModel.train(init, sentences, trained, epochs, lr, batch, 11,
                    System.out::println);
            System.out.printf("trained in %.0f s (%d steps, %.0f tokens/s, final loss %.3f), load %s%n",
                    (System.nanoTime() - t0) / 1e9, m.steps(), m.tokensPerSecond(), m.trainLoss(), load());
        }
        try (Transformer model = Transformer.open(trained, Optional.empty());
             Tokenizer tokenizer = Tokenizer.load(trained)) {
            System.out.printf("fact model knows: trained phrasings %.3f, held-out phrasing %.3f (exact teacher-forced "
                            + "argmax of the value, all %d people)%n",
                    knows(model, tokenizer, corpus.knowledge(0, people, false)),
                    knows(model, tokenizer, corpus.knowledge(0, people, true)), people);
            if (trace > 0) {
                long t0 = System.nanoTime();
                CausalTrace.run(model, tokenizer, knownFacts(corpus, model, tokenizer, trace), 5, 17).print(System.out);
                System.out.printf("causal trace: %.1f s, load %s%n", (System.nanoTime() - t0) / 1e9, load());
            }
            if (trainOnly) {
                return;
            }
            String statsText = corpus.text(0, people);
            String heldOut = corpus.text(editable, people);
            long t0 = System.nanoTime();
            List<Integer> all = java.util.stream.IntStream.range(0, model.layers()).boxed().toList();
            KeyStatistics stats = KeyStatistics.compute(model, tokenizer, statsText, all, 100_000, Progress.NONE);
            System.out.printf("key statistics: %d tokens, %.1f s%n", stats.tokens(), (System.nanoTime() - t0) / 1e9);
            List<String> prefixes = PreparedEdit.prefixes(model, tokenizer, 5, 10, 0);
            List<EditRequest> allEdits = corpus.edits(editable, editable, 3);
            EditRun.header(System.out);
            for (String name : methods) {
                for (int n : counts) {
                    if (n > editable) {
                        System.out.printf("| %s | | | %d | skipped: the corpus has %d editable people |%n", name, n,
                                editable);
                        continue;
                    }
                    EditMethod method = EditMethod.parse(name);
                    List<EditRequest> requests = new ArrayList<>(allEdits.subList(0, n));
                    List<PreparedEdit> prepared = PreparedEdit.prepare(requests, tokenizer, model, prefixes,
                            EditDefaults.MAX_EDITS);
                    // MEMIT's targets depend on the last edited layer only: found once per count and last layer, and
                    // spread for every layer range and λ; their time counts in every row that uses them.
                    Map<Integer, Targets> targets = new HashMap<>();
                    for (Optional<List<Integer>> layerSet : layerSets) {
                        for (double lambdaFactor : lambdaFactors) {
                            KnowledgeEditor editor = editor(method, model, layerSet, lambdaFactor, clamp);
                            long start = System.nanoTime();
                            EditDelta delta;
                            double seconds;
                            if (editor instanceof MemitEditor m && method == EditMethod.MEMIT) {
                                Targets t = targets.computeIfAbsent(m.layers().getLast(), last -> Targets.find(m,
                                        model, prepared));
                                start = System.nanoTime();
                                delta = m.spread(model, EditDelta.empty(name), prepared, t.values(), stats,
                                        Progress.NONE);
                                seconds = t.seconds() + (System.nanoTime() - start) / 1e9;
                                t.print(System.out);
                            } else {
                                delta = editor.edit(model, EditDelta.empty(name), prepared, stats, Progress.NONE);
                                seconds = (System.nanoTime() - start) / 1e9;
                            }
                            String loadAfter = load();
                            EditEvaluation e = EditEvaluation.measure(model, tokenizer, requests, delta,
                                    Optional.of(heldOut), Math.min(n, 10));
                            new EditRun(name, editor.layers(), lambda(editor), n, e, seconds, loadAfter)
                                    .print(System.out);
                            if (n <= 10) {
                                for (CounterFactScores.EditScore x : e.scores().edits()) {
                                    x.efficacyAfter().filter(c -> !c.success()).ifPresent(c -> System.out.printf(
                                            "    missed: %s -> %s (log p %.2f vs %.2f)%n", requests.get(x.index())
                                                    .filledPrompt(), requests.get(x.index()).targetNew(),
                                            c.preferred(), c.other()));
                                }
                            }
                            if (n == retention) {
                                Path edited = work.resolve("edited-" + name + "-" + n);
                                deleteTree(edited);
                                EditDeltaCheckpoint.materialize(delta, trained, edited);
                                EditRetention.report(name, trained, edited, delta, requests,
                                        other(trained, work, names, phrasing), work, tokenizer, System.out);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * MEMIT's targets for one count and last layer, with the time it took to find them and how close they came: the
     * mean NLL of the new value per token in the last Adam step's forward, and how many stayed above ln 2 (P(new) under one half, a target
     * the spreading cannot make hold however fully it writes it).
     */
    record Targets(List<TargetValue> values, double seconds) {

        static Targets find(MemitEditor editor, Transformer model, List<PreparedEdit> edits) {
            long start = System.nanoTime();
            List<TargetValue> v = editor.targets(model, EditDelta.empty(editor.method().id()), edits, Progress.NONE);
            return new Targets(v, (System.nanoTime() - start) / 1e9);
        }

        void print(PrintStream out) {
            out.printf("    targets: %.1f s, mean NLL %.3f, %d of %d above ln 2%n", seconds,
                    values.stream().mapToDouble(TargetValue::nll).average().orElse(Double.NaN),
                    values.stream().filter(t -> t.nll() > Math.log(2)).count(), values.size());
        }
    }

    /**
     * Another full fine-tune of the fact model, on facts of 30 people it has never seen, named and phrased as the edited
     * model's corpus is (10 epochs): the model an edited version is merged with in the retention check. A partner
     * trained in another phrasing would move the shared weights without teaching the model anything it reads the way
     * the edited facts are read, which is not the merge a user makes. Trained once per work directory and phrasing.
     */
    static Path other(Path trained, Path work, FactCorpus.Names names, FactCorpus.Phrasing phrasing)
            throws IOException {
        Path other = work.resolve("other-finetune" + (phrasing == FactCorpus.Phrasing.SUBJECT_LAST ? "-subjlast" : ""));
        if (!Files.exists(other.resolve("config.json"))) {
            // A family name of one token of its own exists only for the trained people; new people get syllables.
            FactCorpus fresh = FactCorpus.generate(30, 99,
                    names == FactCorpus.Names.TOKEN ? FactCorpus.Names.SYLLABLES : names, phrasing);
            long t0 = System.nanoTime();
            FineTuneMetrics m = FactModel.train(trained, fresh.trainingSentences(), other, 10, 1e-3, 8, 5, line -> { });
            System.out.printf("other fine-tune (30 new people, %s, 10 epochs): %.0f s, final loss %.3f; it knows %.3f "
                            + "of its new facts%n", phrasing, (System.nanoTime() - t0) / 1e9, m.trainLoss(),
                    knows(other, fresh.knowledge(0, 30, false)));
        }
        return other;
    }

    private static double knows(Path dir, List<EditRequest> facts) throws IOException {
        try (Transformer model = Transformer.open(dir, Optional.empty()); Tokenizer tokenizer = Tokenizer.load(dir)) {
            return knows(model, tokenizer, facts);
        }
    }

    /**
     * The method's defaults, with what the command line overrides.
     *
     * @param lambdaFactor MEMIT's λ per key dimension, NaN for the default
     * @param clamp        largest ‖δ‖/‖v₀‖ of the target search, NaN for the default
     */
    static KnowledgeEditor editor(EditMethod method, Transformer model, Optional<List<Integer>> layers,
                                  double lambdaFactor, double clamp) {
        KnowledgeEditor editor = EditDefaults.editor(method, model.config(), layers);
        return switch (editor) {
            case MemitEditor m -> {
                MemitParams p = m.params();
                yield new MemitEditor(new MemitParams(p.layers(), Double.isNaN(lambdaFactor) ? p.covarianceWeight()
                        : lambdaFactor * KeyStatistics.keyWidth(model), Double.isNaN(clamp) ? p.target()
                        : p.target().withClampNormFactor(clamp)));
            }
            case AlphaEditor a -> {
                AlphaEditParams p = a.params();
                MemitParams m = p.memit();
                yield new AlphaEditor(new AlphaEditParams(new MemitParams(m.layers(), m.covarianceWeight(),
                        Double.isNaN(clamp) ? m.target() : m.target().withClampNormFactor(clamp)), p.nullSpaceEnergy(),
                        p.regularization(), p.batchSize()));
            }
            default -> editor;
        };
    }

    private static double lambda(KnowledgeEditor editor) {
        return switch (editor) {
            case MemitEditor m -> m.params().covarianceWeight();
            case AlphaEditor a -> Double.NaN;
            default -> Double.NaN;
        };
    }

    /**
     * Up to {@code count} facts the model knows (every value token the teacher-forced argmax), one per person from the
     * first, in the first trained phrasing of the relation that person's edit would change.
     */
    static List<EditRequest> knownFacts(FactCorpus corpus, Transformer model, Tokenizer tokenizer, int count) {
        List<EditRequest> out = new ArrayList<>();
        for (int p = 0; p < corpus.people().size() && out.size() < count; p++) {
            FactCorpus.Relation r = FactCorpus.editedRelation(p);
            EditRequest fact = EditRequest.of(r.training(corpus.phrasing()).getFirst(), corpus.people().get(p), corpus.value(p, r));
            if (knows(model, tokenizer, List.of(fact)) == 1.0) {
                out.add(fact);
            }
        }
        return out;
    }

    /** Fraction of requests whose target tokens are all the teacher-forced argmax. */
    static double knows(Transformer model, Tokenizer tokenizer, List<EditRequest> facts) {
        CounterFactScores s = CounterFactScores.measure(model, tokenizer, facts, ForwardOptions.defaults(),
                ForwardOptions.defaults());
        return s.edits().stream().mapToDouble(e -> e.rewriteAccuracyBefore() == 1.0 ? 1 : 0).average().orElseThrow();
    }

    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
