package io.emend.editor.edit;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.EditDelta;
import io.emend.core.edit.EditDefaults;
import io.emend.core.edit.EditMethod;
import io.emend.core.edit.EditRequest;
import io.emend.core.edit.InvalidEditException;
import io.emend.core.edit.KeyStatistics;
import io.emend.core.edit.KnowledgeEditor;
import io.emend.core.edit.PreparedEdit;
import io.emend.core.edit.Progress;
import io.emend.core.edit.SubjectPrompt;
import io.emend.core.edit.alphaedit.AlphaEditParams;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.edit.alphaedit.NullSpaceProjectors;
import io.emend.core.edit.alphaedit.WrittenKeys;
import io.emend.core.eval.CounterFactScores;
import io.emend.core.eval.Fluency;
import io.emend.core.eval.Perplexity;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.model.ModelConfig;
import io.emend.core.tokenizer.Tokenizer;
import java.util.List;
import java.util.Optional;

/**
 * One edit computed on a base model: the new requests written on top of the edits the parent version already carries,
 * then measured against the parent. Plain Java over core; the job runner feeds it files and the ledger feeds it the
 * parent's edits.
 *
 * <p>Every edit version of one base carries the cumulative delta over that base ({@code prior + new}), so serving
 * applies one factor file to the unchanged base, and a rollback recomputes the survivors from the base alone.
 */
public final class EditComputation {

    /** Tokens per model-written prefix, as in ROME and MEMIT. */
    static final int PREFIX_TOKENS = 10;
    /** Tokens a model-written context prefix may add in front of a prompt besides its own: a starter word, ". ". */
    static final int PREFIX_OVERHEAD = 4;

    private final Transformer model;
    private final Tokenizer tokenizer;
    private final KeyStatistics stats;

    /**
     * @param model     the edit base (the nearest ancestor that is not itself an edit version)
     * @param stats     key statistics of {@code model}
     */
    public EditComputation(Transformer model, Tokenizer tokenizer, KeyStatistics stats) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.stats = stats;
    }

    /**
     * What to compute.
     *
     * @param prior           the parent's cumulative delta over the base (empty when the parent is the base)
     * @param priorRequests   the parent's live edits, re-measured on the result
     * @param requests        the new edits
     * @param contextPrefixes model-written prefixes each prompt is also edited behind
     * @param fluencyPrompts  prompts (the requests' prompts and rephrasings) generated from to measure fluency
     * @param heldOut         text scored for the perplexity change
     * @param priorKeys       for AlphaEdit, the keys the parent's AlphaEdit jobs wrote, protected like earlier batches
     * @param projectors      for AlphaEdit, the base's stored null-space projectors (computed here when empty)
     */
    public record Input(EditDelta prior, List<EditRequest> priorRequests, List<EditRequest> requests,
                        EditMethod method, EditOptions options, int contextPrefixes, int fluencyPrompts,
                        Optional<String> heldOut, WrittenKeys priorKeys, Optional<NullSpaceProjectors> projectors) {

        /** An input with no stored AlphaEdit state. */
        public Input(EditDelta prior, List<EditRequest> priorRequests, List<EditRequest> requests, EditMethod method,
                     EditOptions options, int contextPrefixes, int fluencyPrompts, Optional<String> heldOut) {
            this(prior, priorRequests, requests, method, options, contextPrefixes, fluencyPrompts, heldOut,
                    WrittenKeys.none(), Optional.empty());
        }
    }

    /**
     * @param delta            the result's cumulative delta over the base ({@code prior} joined with the new factors)
     * @param layers           the layers the method edited
     * @param scores           the new edits measured against the parent
     * @param efficacies       per new request, its efficacy on the result (see {@link #efficacyOf})
     * @param priorEfficacies  per prior request, its efficacy on the result
     * @param seconds          time spent computing the factors
     * @param writtenKeys      for AlphaEdit, every key written on this lineage so far (the prior keys and this job's):
     *                         stored with the result for the next AlphaEdit job on it
     */
    public record Output(EditDelta delta, List<Integer> layers, EditScores scores, double[] efficacies,
                         double[] priorEfficacies, double seconds, Optional<WrittenKeys> writtenKeys) {
    }

    /**
     * With no requests (a rollback of a version's only edit) the result is the prior delta, measured for perplexity
     * only.
     *
     * @throws InvalidEditException                        for a request the model cannot take
     * @throws java.util.concurrent.CancellationException when {@code progress} asks to stop
     */
    public Output run(Input in, Progress progress) {
        KnowledgeEditor editor = editor(in.method(), model.config(), in.options(), in.priorKeys(), in.projectors());
        stats.requireFits(model, editor.layers());
        EditDelta added = EditDelta.empty(in.method().id());
        double seconds = 0;
        if (!in.requests().isEmpty()) {
            progress.report("context prefixes", 0, 1);
            List<String> prefixes = PreparedEdit.prefixes(model, tokenizer, in.contextPrefixes(), PREFIX_TOKENS,
                    in.options().seed());
            List<PreparedEdit> prepared = PreparedEdit.prepare(in.requests(), tokenizer, model, prefixes,
                    Integer.MAX_VALUE);
            progress.checkCancelled();
            long started = System.nanoTime();
            added = editor.edit(model, in.prior(), prepared, stats, progress);
            seconds = (System.nanoTime() - started) / 1e9;
        }
        EditDelta delta = in.prior().plus(added);
        progress.checkCancelled();
        progress.report("evaluating", 0, 1);
        try (NDManager scope = NDManager.newBaseManager()) {
            ForwardOptions before = in.prior().applyTo(ForwardOptions.defaults(), scope);
            ForwardOptions after = delta.applyTo(ForwardOptions.defaults(), scope);
            double[] efficacies = new double[0];
            CounterFactScores.Summary s = null;
            double fluencyBefore = Double.NaN;
            double fluency = Double.NaN;
            if (!in.requests().isEmpty()) {
                CounterFactScores scores = CounterFactScores.measure(model, tokenizer, in.requests(), before, after);
                efficacies = scores.edits().stream().mapToDouble(EditComputation::efficacyOf).toArray();
                s = scores.summary();
                List<String> prompts = Fluency.prompts(in.requests(), in.fluencyPrompts());
                long seed = in.options().seed();
                fluencyBefore = Fluency.of(model, tokenizer, prompts, before, Fluency.TOKENS, seed).entropy();
                fluency = Fluency.of(model, tokenizer, prompts, after, Fluency.TOKENS, seed).entropy();
            }
            // the prior edits are only read on the result: "before" is not asked for, so both sides are the result
            double[] priorEfficacies = in.priorRequests().isEmpty() ? new double[0]
                    : CounterFactScores.measure(model, tokenizer, in.priorRequests(), after, after).edits().stream()
                            .mapToDouble(EditComputation::efficacyOf).toArray();
            double pplBefore = Double.NaN;
            double ppl = Double.NaN;
            if (in.heldOut().isPresent()) {
                int window = Math.min(256, model.config().maxPositions());
                pplBefore = Perplexity.of(model, tokenizer, in.heldOut().get(), window, window / 2, before)
                        .perplexity();
                ppl = Perplexity.of(model, tokenizer, in.heldOut().get(), window, window / 2, after).perplexity();
            }
            EditScores summary = s == null
                    ? new EditScores(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                            Double.NaN, pplBefore, ppl, ppl / pplBefore - 1, fluencyBefore, fluency)
                    : new EditScores(in.requests().size(), s.efficacyBefore(), s.efficacy(), s.rewriteAccuracy(),
                            s.paraphraseBefore(), s.paraphrase(), s.neighborhoodBefore(), s.neighborhood(),
                            pplBefore, ppl, ppl / pplBefore - 1, fluencyBefore, fluency);
            progress.report("evaluating", 1, 1);
            Optional<WrittenKeys> written = editor instanceof AlphaEditor a ? Optional.of(a.writtenKeys())
                    : Optional.empty();
            return new Output(delta, editor.layers(), summary, efficacies, priorEfficacies, seconds, written);
        }
    }

    /**
     * An edit's efficacy as one number: with a ground truth, 1 when the new target beats it on the prompt and 0
     * otherwise (CounterFact's efficacy); without one, the share of the target's tokens that are the model's greedy
     * choice (EasyEdit's rewrite accuracy). An edit "holds" at 0.5 or more.
     */
    public static double efficacyOf(CounterFactScores.EditScore score) {
        return score.efficacyAfter().map(c -> c.success() ? 1.0 : 0.0).orElse(score.rewriteAccuracyAfter());
    }

    /** The editor with the method's defaults for this architecture, the requested layers and batch size. */
    static KnowledgeEditor editor(EditMethod method, ModelConfig config, EditOptions options) {
        return editor(method, config, options, WrittenKeys.none(), Optional.empty());
    }

    /** The same, an AlphaEdit editor continuing from {@code priorKeys} with the given projectors. */
    static KnowledgeEditor editor(EditMethod method, ModelConfig config, EditOptions options, WrittenKeys priorKeys,
                                  Optional<NullSpaceProjectors> projectors) {
        KnowledgeEditor editor = EditDefaults.editor(method, config, options.layers());
        if (editor instanceof AlphaEditor a) {
            AlphaEditParams p = a.params();
            editor = new AlphaEditor(new AlphaEditParams(p.memit(), p.nullSpaceEnergy(), p.regularization(),
                    options.batchSize()), priorKeys, projectors);
        }
        return editor;
    }

    /**
     * Checks what the model decides before a job is queued: the layers exist (ROME takes one), every target has
     * tokens, and every prompt with its target and a context prefix fits the model's context.
     *
     * @throws InvalidSubmission naming the request and field
     */
    public static void checkFits(List<EditRequest> requests, EditMethod method, EditOptions options,
                                 ModelConfig config, Tokenizer tokenizer, int contextPrefixes) {
        try {
            editor(method, config, options);
        } catch (IllegalArgumentException e) {
            throw new InvalidSubmission("options.layers", e.getMessage());
        }
        int context = config.maxPositions();
        int overhead = contextPrefixes > 0 ? PREFIX_TOKENS + PREFIX_OVERHEAD : 0;
        for (int i = 0; i < requests.size(); i++) {
            EditRequest r = requests.get(i);
            String prompt = r.filledPrompt();
            int[] target;
            try {
                target = SubjectPrompt.continuation(tokenizer, prompt, r.targetNew());
            } catch (IllegalArgumentException e) {
                throw new InvalidSubmission("requests[" + i + "].target_new", "requests[" + i + "].target_new: "
                        + e.getMessage());
            }
            int length = tokenizer.encode(prompt, true).length + target.length + overhead;
            if (length > context) {
                throw new InvalidSubmission("requests[" + i + "].prompt", "requests[" + i + "].prompt: with its target"
                        + (overhead > 0 ? " and a context prefix (" + overhead + " tokens)" : "") + " it takes "
                        + length + " tokens, longer than the model's context of " + context);
            }
        }
    }
}
