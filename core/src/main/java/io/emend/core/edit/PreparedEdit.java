package io.emend.core.edit;

import io.emend.core.generate.Generator;
import io.emend.core.generate.SamplingParams;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * An edit request turned into what the algorithms consume: its rewriting prompts (the bare prompt, then the prompt
 * behind each context prefix), the target's tokens and the KL prompt, all checked against the model's context.
 *
 * @param index     position of the request in its file
 * @param request   the request
 * @param rewriting the bare prompt first, then one per prefix; each knows its subject's last token
 * @param target    the new target's tokens, as a continuation of the prompt
 * @param kl        "{subject} is a", for the KL term that keeps the subject's other properties
 */
public record PreparedEdit(int index, EditRequest request, List<SubjectPrompt> rewriting, int[] target,
                           SubjectPrompt kl) {

    /** The KL prompt of ROME and MEMIT. */
    static final String KL_TEMPLATE = "{} is a";

    /** First words of the context prefixes, as in ROME. */
    private static final List<String> STARTERS = List.of("The", "Therefore", "Because", "I", "You");

    public PreparedEdit {
        rewriting = List.copyOf(rewriting);
        target = target.clone();
    }

    @Override
    public int[] target() {
        return target.clone();
    }

    /**
     * Validates and tokenizes requests.
     *
     * @param prefixes context prefixes (ending in ". ") to put before the prompt; see {@link #prefixes}
     * @param maxEdits the most requests one call may carry
     * @throws InvalidEditException for too many requests, a missing field, a subject absent from its prompt, an empty
     *                              target, or a prompt that with prefix and target exceeds the model's context
     */
    public static List<PreparedEdit> prepare(List<EditRequest> requests, Tokenizer tokenizer, Transformer model,
                                             List<String> prefixes, int maxEdits) {
        if (requests.isEmpty()) {
            throw new InvalidEditException(-1, "requests", "no edit requests");
        }
        if (requests.size() > maxEdits) {
            throw new InvalidEditException(-1, "requests", "too many edits: " + requests.size() + " in one call, at most "
                    + maxEdits);
        }
        int context = model.config().maxPositions();
        List<PreparedEdit> out = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            EditRequest r = requests.get(i);
            r.validate(i);
            String prompt = r.filledPrompt();
            int[] target;
            try {
                target = SubjectPrompt.continuation(tokenizer, prompt, r.targetNew());
            } catch (IllegalArgumentException e) {
                throw new InvalidEditException(i, "target_new", e.getMessage());
            }
            List<SubjectPrompt> rewriting = new ArrayList<>();
            rewriting.add(SubjectPrompt.of(tokenizer, "", prompt, r.subject()));
            for (String p : prefixes) {
                rewriting.add(SubjectPrompt.of(tokenizer, p, prompt, r.subject()));
            }
            for (SubjectPrompt p : rewriting) {
                int length = p.length() + target.length;
                if (length > context) {
                    throw new InvalidEditException(i, "prompt", "with its context prefix and target it takes " + length
                            + " tokens, longer than the model's context of " + context);
                }
            }
            SubjectPrompt kl = SubjectPrompt.of(tokenizer, "", KL_TEMPLATE.replace("{}", r.subject()), r.subject());
            if (kl.length() > context) {
                throw new InvalidEditException(i, "subject", "takes " + kl.length()
                        + " tokens, longer than the model's context of " + context);
            }
            out.add(new PreparedEdit(i, r, rewriting, target, kl));
        }
        return out;
    }

    /**
     * Context prefixes sampled from the model itself (ROME's recipe: short continuations of a few common first words,
     * top-k 5), each ending in ". " so the prompt starts a new sentence. Averaging keys over them makes the edit key on
     * the subject rather than on one exact string.
     */
    public static List<String> prefixes(Transformer model, Tokenizer tokenizer, int count, int tokens, long seed) {
        Generator generator = new Generator(model, tokenizer);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String starter = STARTERS.get(i % STARTERS.size());
            SamplingParams params = new SamplingParams(1.0, 5, 1.0, seed + i, tokens, List.of());
            int[] start = tokenizer.encode(starter, true);
            int[] generated = generator.generate(start, params, ForwardOptions.defaults(), (id, piece) -> { }).tokens();
            int[] all = java.util.Arrays.copyOf(start, start.length + generated.length);
            System.arraycopy(generated, 0, all, start.length, generated.length);
            String prefix = tokenizer.decode(all).replace('\n', ' ').replace("{", " ").replace("}", " ").strip();
            out.add(prefix + ". ");
        }
        return out;
    }
}
