package io.emend.registry.resolve;

import io.emend.registry.Name;
import io.emend.registry.problem.RegistryException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How clients name a version: {@code name} (its latest ready version), {@code name@alias} or {@code name:number}.
 */
public record Reference(String model, Optional<String> alias, OptionalInt number) {

    public static Reference parse(String field, String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidReference(field, text, "it is empty");
        }
        int at = text.indexOf('@');
        int colon = text.indexOf(':');
        if (at >= 0 && colon >= 0) {
            throw new InvalidReference(field, text, "it has both an alias and a number");
        }
        if (at >= 0) {
            String model = text.substring(0, at);
            String alias = text.substring(at + 1);
            if (!Name.valid(model) || !Name.valid(alias)) {
                throw new InvalidReference(field, text, "model and alias names " + Name.RULE);
            }
            return new Reference(model, Optional.of(alias), OptionalInt.empty());
        }
        if (colon >= 0) {
            String model = text.substring(0, colon);
            String number = text.substring(colon + 1);
            if (!Name.valid(model) || !number.matches("[1-9][0-9]{0,8}")) {
                throw new InvalidReference(field, text, "expected name:number with a positive number");
            }
            return new Reference(model, Optional.empty(), OptionalInt.of(Integer.parseInt(number)));
        }
        if (!Name.valid(text)) {
            throw new InvalidReference(field, text, "a model name " + Name.RULE);
        }
        return new Reference(text, Optional.empty(), OptionalInt.empty());
    }

    @Override
    public String toString() {
        return model + alias.map(a -> "@" + a).orElse("") + (number.isPresent() ? ":" + number.getAsInt() : "");
    }

    public static final class InvalidReference extends RegistryException.InvalidInput {
        InvalidReference(String field, String text, String why) {
            super("invalid-reference", "reference '" + text + "' is not valid: " + why
                    + " (use name, name@alias or name:number)", List.of(new FieldError(field, why)));
        }
    }
}
