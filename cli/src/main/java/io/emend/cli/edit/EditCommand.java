package io.emend.cli.edit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.cli.terminal.Progress;
import io.emend.core.delta.EditDelta;
import io.emend.core.delta.EditDeltaCheckpoint;
import io.emend.core.edit.EditDefaults;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.EditRequests;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.alphaedit.AlphaEditParams;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.eval.EditEvaluation;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code emend edit}: writes facts into a Hugging Face model directory locally, without the stack. OUT receives the
 * edited model (a complete HF directory every command loads), the factors beside it ({@code edit_delta.safetensors})
 * and the metrics ({@code edit_metrics.json}, also printed). Key statistics are read from {@code --stats} when that
 * file exists, else computed from {@code --corpus} and written there (or into OUT), so later edits of the same base
 * reuse them.
 */
@Command(name = "edit",
        description = {"Edit facts in a model directory (ROME, MEMIT or AlphaEdit) and write the edited model, "
                + "its delta factors and CounterFact-style metrics.",
                "Example: ./emend edit --model m --requests facts.json --method memit --corpus text.txt --out edited"},
        mixinStandardHelpOptions = true)
public final class EditCommand implements Callable<Integer> {

    static final String METRICS_FILE = "edit_metrics.json";
    static final String STATS_FILE = "key_statistics.safetensors";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = "--requests", required = true, paramLabel = "FILE",
            description = "JSON array of requests: prompt, subject, target_new [, ground_truth, rephrase_prompt, "
                    + "locality_prompt, locality_ground_truth]")
    Path requests;

    @Option(names = "--method", defaultValue = "memit", description = "rome, memit or alphaedit (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (new or empty)")
    Path out;

    @Option(names = "--stats", paramLabel = "FILE",
            description = "key statistics: read if present, else computed from --corpus and written here "
                    + "(default: OUT/" + STATS_FILE + ")")
    Path stats;

    @Option(names = "--corpus", paramLabel = "FILE", description = "text for the key statistics (and held-out perplexity)")
    Path corpus;

    @Option(names = "--stats-tokens", defaultValue = "100000",
            description = "tokens of --corpus the statistics average over (default: ${DEFAULT-VALUE})")
    long statsTokens;

    @Option(names = "--heldout", paramLabel = "FILE",
            description = "text for the perplexity change (default: the last 20,000 characters of --corpus)")
    Path heldout;

    @Option(names = "--layers", paramLabel = "A-B", description = "layers to edit, e.g. 1-2 (default: per architecture)")
    String layers;

    @Option(names = "--batch-size", defaultValue = "100", description = "AlphaEdit sequential batch size (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--max-edits", defaultValue = "" + EditDefaults.MAX_EDITS,
            description = "most requests accepted (default: ${DEFAULT-VALUE})")
    int maxEdits;

    @Option(names = "--fluency-prompts", defaultValue = "20",
            description = "prompts (each edit's prompt, then its rephrasing) continued by 100 sampled tokens for fluency (default: ${DEFAULT-VALUE})")
    int fluencyPrompts;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the context prefixes (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        EditMethod m;
        Optional<List<Integer>> layerRange;
        try {
            m = EditMethod.parse(method);
            layerRange = layers == null ? Optional.empty() : Optional.of(parseLayers(layers));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        requireFile(requests, "no such requests file");
        Path statsFile = stats != null ? stats : out.resolve(STATS_FILE);
        boolean haveStats = Files.isRegularFile(statsFile);
        if (!haveStats && corpus == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "key statistics are needed: pass --stats FILE "
                    + "(an existing one) or --corpus TEXT to compute them");
        }
        if (corpus != null) {
            requireFile(corpus, "no such corpus file");
        }
        if (heldout != null) {
            requireFile(heldout, "no such held-out file");
        }
        requireEmpty(out, statsFile);
        List<EditRequest> parsed = EditRequests.read(requests);

        var err = spec.commandLine().getErr();
        try (Progress bar = new Progress(err, Progress.terminalAttached(), 6);
             Transformer base = open(model); Tokenizer tokenizer = Tokenizer.load(model)) {
            KnowledgeEditor editor = EditDefaults.editor(m, base.config(), layerRange);
            if (editor instanceof AlphaEditor a) {
                AlphaEditParams p = a.params();
                editor = new AlphaEditor(new AlphaEditParams(p.memit(), p.nullSpaceEnergy(), p.regularization(),
                        batchSize));
            }
            bar.step("key statistics");
            KeyStatistics keyStats;
            String corpusText = corpus == null ? null : Files.readString(corpus);
            if (haveStats) {
                keyStats = KeyStatistics.read(statsFile);
            } else {
                keyStats = KeyStatistics.compute(base, tokenizer, corpusText, allLayers(base), statsTokens,
                        reporting(bar));
                Files.createDirectories(statsFile.toAbsolutePath().getParent());
                keyStats.write(statsFile);
            }
            keyStats.requireFits(base, editor.layers());
            bar.step("preparing " + parsed.size() + " requests");
            List<String> prefixes = PreparedEdit.prefixes(base, tokenizer, 5, 10, seed);
            List<PreparedEdit> prepared = PreparedEdit.prepare(parsed, tokenizer, base, prefixes, maxEdits);
            bar.step(m.id() + " on layers " + editor.layers());
            long started = System.nanoTime();
            EditDelta delta = editor.edit(base, EditDelta.empty(m.id()), prepared, keyStats, reporting(bar));
            double seconds = (System.nanoTime() - started) / 1e9;
            bar.step("writing the edited model");
            EditDeltaCheckpoint.materialize(delta, model, out);
            delta.write(out.resolve(EditDelta.FILE_NAME));
            bar.step("evaluating");
            Optional<String> heldOutText = heldout != null ? Optional.of(Files.readString(heldout))
                    : Optional.ofNullable(corpusText).map(t -> t.substring(Math.max(0, t.length() - 20_000)));
            EditEvaluation evaluation = EditEvaluation.measure(base, tokenizer, parsed, delta, heldOutText,
                    fluencyPrompts);
            ObjectNode metrics = metrics(m, editor.layers(), parsed.size(), seconds, keyStats, evaluation);
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            Files.writeString(out.resolve(METRICS_FILE), json.writeValueAsString(metrics));
            bar.step("done");
            bar.close();
            CounterFactScores.Summary s = evaluation.scores().summary();
            spec.commandLine().getOut().printf(
                    "%s: %d edits in %.1f s; efficacy %.3f (was %.3f), paraphrase %.3f (was %.3f), neighborhood %.3f "
                            + "(was %.3f), perplexity change %+.2f%%; wrote %s%n",
                    m.id(), parsed.size(), seconds, s.efficacy(), s.efficacyBefore(), s.paraphrase(),
                    s.paraphraseBefore(), s.neighborhood(), s.neighborhoodBefore(),
                    100 * evaluation.perplexityChange(), out);
        }
        return 0;
    }

    /** Core's progress reports shown on the bar's line ("memit targets 3/10"). */
    private static io.emend.core.edit.Progress reporting(Progress bar) {
        return (phase, done, total) -> bar.detail(phase + " " + done + "/" + total);
    }

    private static Transformer open(Path dir) throws IOException {
        return Transformer.open(dir, Optional.empty());
    }

    private static List<Integer> allLayers(Transformer model) {
        return java.util.stream.IntStream.range(0, model.layers()).boxed().toList();
    }

    static List<Integer> parseLayers(String spec) {
        String[] parts = spec.strip().split("-", -1);
        try {
            int first = Integer.parseInt(parts[0].strip());
            int last = parts.length == 1 ? first : Integer.parseInt(parts[1].strip());
            if (parts.length > 2 || first < 0 || last < first) {
                throw new NumberFormatException();
            }
            return java.util.stream.IntStream.rangeClosed(first, last).boxed().toList();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--layers must be A or A-B with 0 <= A <= B, got '" + spec + "'");
        }
    }

    private static void requireFile(Path file, String what) throws NoSuchFileException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, what);
        }
    }

    /** OUT may exist only when empty (or holding just the statistics file this command writes there). */
    private static void requireEmpty(Path dir, Path statsFile) throws IOException {
        if (!Files.isDirectory(dir)) {
            if (Files.exists(dir)) {
                throw new FileAlreadyExistsException(dir.toString(), null, "output exists and is not a directory");
            }
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            if (s.anyMatch(p -> !p.toAbsolutePath().equals(statsFile.toAbsolutePath()))) {
                throw new FileAlreadyExistsException(dir.toString(), null, "output directory is not empty");
            }
        }
    }

    private static ObjectNode metrics(EditMethod method, List<Integer> layers, int edits, double seconds,
                                      KeyStatistics stats, EditEvaluation e) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("method", method.id());
        root.set("layers", json.valueToTree(layers));
        root.put("edits", edits);
        root.put("edit_seconds", seconds);
        root.put("edits_per_second", edits / Math.max(seconds, 1e-9));
        root.put("stats_tokens", stats.tokens());
        root.put("stats_corpus_sha256", stats.corpus());
        CounterFactScores.Summary s = e.scores().summary();
        ObjectNode summary = root.putObject("summary");
        summary.put("efficacy_before", s.efficacyBefore());
        summary.put("efficacy", s.efficacy());
        summary.put("efficacy_magnitude", s.efficacyMagnitude());
        summary.put("rewrite_accuracy_before", s.rewriteAccuracyBefore());
        summary.put("rewrite_accuracy", s.rewriteAccuracy());
        summary.put("paraphrase_before", s.paraphraseBefore());
        summary.put("paraphrase", s.paraphrase());
        summary.put("paraphrase_magnitude", s.paraphraseMagnitude());
        summary.put("neighborhood_before", s.neighborhoodBefore());
        summary.put("neighborhood", s.neighborhood());
        summary.put("neighborhood_magnitude", s.neighborhoodMagnitude());
        summary.put("locality", s.locality());
        summary.put("fluency_before", e.fluencyBefore().entropy());
        summary.put("fluency", e.fluencyAfter().entropy());
        e.perplexityBefore().ifPresent(p -> summary.put("perplexity_before", p.perplexity()));
        e.perplexityAfter().ifPresent(p -> summary.put("perplexity", p.perplexity()));
        summary.put("perplexity_change", e.perplexityChange());
        ArrayNode per = root.putArray("per_edit");
        for (CounterFactScores.EditScore x : e.scores().edits()) {
            ObjectNode o = per.addObject();
            o.put("index", x.index());
            x.efficacyAfter().ifPresent(c -> o.put("efficacy", c.success()).put("efficacy_margin", c.margin()));
            o.put("rewrite_accuracy", x.rewriteAccuracyAfter());
            x.paraphraseAfter().ifPresent(c -> o.put("paraphrase", c.success()));
            x.neighborhoodAfter().ifPresent(c -> o.put("neighborhood", c.success()));
            x.locality().ifPresent(v -> o.put("locality", v));
        }
        return root;
    }
}
