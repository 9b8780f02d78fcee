package io.emend.contracts.event;

/**
 * A version was created, became ready or failed ({@link EventTypes#VERSION_CREATED}, {@code _READY}, {@code _FAILED}).
 *
 * @param model the model's name
 * @param number the version number within the model, from 1
 * @param id the version's registry id
 * @param operation how it was produced: {@code import}, {@code finetune}, {@code edit}, {@code merge},
 *     {@code quantize}
 * @param state its state after the change: {@code pending}, {@code ready}, {@code failed}, {@code archived}
 */
public record VersionEvent(String model, int number, String id, String operation, String state) implements EventData {

    public VersionEvent {
        Fields.requireText("model", model);
        Fields.requirePositive("number", number);
        Fields.requireText("id", id);
        Fields.requireText("operation", operation);
        Fields.requireText("state", state);
    }
}
