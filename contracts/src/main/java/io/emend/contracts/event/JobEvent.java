package io.emend.contracts.event;

/**
 * A job (fine-tuning, edit, merge, quantization) changed state or made progress ({@code io.emend.job.*}).
 *
 * @param jobId the job's id, unique across services
 * @param kind what the job does: {@code finetune}, {@code edit}, {@code merge}, {@code quantize}
 * @param model the model whose new version the job produces
 * @param state {@code queued}, {@code started}, {@code running}, {@code succeeded}, {@code failed} or
 *     {@code cancelled}
 * @param progress the fraction done, from 0 to 1
 * @param message what a person should read (the step, or why it failed); null when there is nothing to say
 */
public record JobEvent(String jobId, String kind, String model, String state, double progress, String message)
        implements EventData {

    public JobEvent {
        Fields.requireText("jobId", jobId);
        Fields.requireText("kind", kind);
        Fields.requireText("model", model);
        Fields.requireText("state", state);
        if (!(progress >= 0 && progress <= 1)) {
            throw new IllegalArgumentException("progress must be between 0 and 1, was " + progress);
        }
    }
}
