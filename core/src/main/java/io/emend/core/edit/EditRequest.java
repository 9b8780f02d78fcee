package io.emend.core.edit;

import java.util.Optional;

/**
 * One fact to write into a model, in the layout of CounterFact / MEND / EasyEdit request files.
 *
 * @param prompt              the sentence the new object completes; contains the subject verbatim or a {@code {}}
 *                            placeholder for it (CounterFact's {@code "{} plays the sport"})
 * @param subject             the entity whose fact changes; its last token is where the edit keys in
 * @param targetNew           the new object (what the edited model should say next)
 * @param groundTruth         the old object, for efficacy (new beats old)
 * @param rephrasePrompt      a paraphrase of the prompt, for generalisation
 * @param localityPrompt      an unrelated prompt whose answer must not move
 * @param localityGroundTruth that prompt's answer
 */
public record EditRequest(
        String prompt,
        String subject,
        String targetNew,
        Optional<String> groundTruth,
        Optional<String> rephrasePrompt,
        Optional<String> localityPrompt,
        Optional<String> localityGroundTruth) {

    public EditRequest {
        groundTruth = groundTruth == null ? Optional.empty() : groundTruth;
        rephrasePrompt = rephrasePrompt == null ? Optional.empty() : rephrasePrompt;
        localityPrompt = localityPrompt == null ? Optional.empty() : localityPrompt;
        localityGroundTruth = localityGroundTruth == null ? Optional.empty() : localityGroundTruth;
    }

    /** A request with only the required fields. */
    public static EditRequest of(String prompt, String subject, String targetNew) {
        return new EditRequest(prompt, subject, targetNew, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** The prompt with a {@code {}} placeholder replaced by the subject. */
    public String filledPrompt() {
        return fill(prompt);
    }

    /** The paraphrase with any placeholder filled. */
    public Optional<String> filledRephrase() {
        return rephrasePrompt.map(this::fill);
    }

    private String fill(String text) {
        return text.contains("{}") ? text.replace("{}", subject) : text;
    }

    /**
     * Checks what needs no model: the required fields are present and the subject occurs in the prompt.
     *
     * @param index the request's position in its file, for messages
     * @throws InvalidEditException naming the field at fault
     */
    public void validate(int index) {
        require(index, "prompt", prompt);
        require(index, "subject", subject);
        require(index, "target_new", targetNew);
        if (!filledPrompt().contains(subject)) {
            throw new InvalidEditException(index, "subject", "\"" + subject + "\" does not occur in the prompt \""
                    + prompt + "\" (write it verbatim or as {})");
        }
        if (localityPrompt.isPresent() != localityGroundTruth.isPresent()) {
            throw new InvalidEditException(index, localityPrompt.isPresent() ? "locality_ground_truth"
                    : "locality_prompt", "locality_prompt and locality_ground_truth come together");
        }
        groundTruth.ifPresent(g -> require(index, "ground_truth", g));
        localityGroundTruth.ifPresent(g -> require(index, "locality_ground_truth", g));
    }

    private static void require(int index, String field, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidEditException(index, field, "is empty");
        }
    }
}
