package io.emend.contracts.event;

/**
 * An alias now points at another version ({@link EventTypes#ALIAS_MOVED}); serving swaps to it.
 *
 * @param model the model's name
 * @param alias the alias, e.g. {@code production}
 * @param version the version number it points at now
 * @param previousVersion the version it pointed at before, or null when the alias is new
 */
public record AliasMoved(String model, String alias, int version, Integer previousVersion) implements EventData {

    public AliasMoved {
        Fields.requireText("model", model);
        Fields.requireText("alias", alias);
        Fields.requirePositive("version", version);
        if (previousVersion != null) {
            Fields.requirePositive("previousVersion", previousVersion);
        }
    }
}
