package io.emend.cli.registry;

import picocli.CommandLine;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * A reference to a version as the registry reads it: {@code name} (latest ready version), {@code name@alias}, or
 * {@code name:number}. Checked here so that nothing but a valid reference ever reaches a URL path.
 */
public record Ref(String model, Optional<String> alias, OptionalInt number) {

    /** The registry's name rule for models and aliases. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    public Ref {
        checkName("model", model);
        alias.ifPresent(a -> checkName("alias", a));
        if (alias.isPresent() && number.isPresent()) {
            throw new IllegalArgumentException("a reference names an alias or a version number, not both");
        }
        if (number.isPresent() && number.getAsInt() < 1) {
            throw new IllegalArgumentException("version numbers start at 1, got " + number.getAsInt());
        }
    }

    public static Ref parse(String text) {
        int at = text.indexOf('@');
        int colon = text.indexOf(':');
        if (at >= 0 && colon >= 0) {
            throw new IllegalArgumentException("'" + text + "' names both an alias and a number; write MODEL@ALIAS or MODEL:N");
        }
        if (at >= 0) {
            return new Ref(text.substring(0, at), Optional.of(text.substring(at + 1)), OptionalInt.empty());
        }
        if (colon >= 0) {
            String n = text.substring(colon + 1);
            try {
                return new Ref(text.substring(0, colon), Optional.empty(), OptionalInt.of(Integer.parseInt(n)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + n + "' in '" + text + "' is not a version number");
            }
        }
        return new Ref(text, Optional.empty(), OptionalInt.empty());
    }

    /** Checks a model or alias name against the registry's rule, naming the field when it fails. */
    public static String checkName(String field, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid " + field + " name '" + value
                    + "': use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        return value;
    }

    @Override
    public String toString() {
        return model + alias.map(a -> "@" + a).orElse("") + (number.isPresent() ? ":" + number.getAsInt() : "");
    }

    /** Turns a malformed reference into a usage error (exit 2) that says what is wrong with it. */
    public static final class Converter implements CommandLine.ITypeConverter<Ref> {
        @Override
        public Ref convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** A model name as a command argument: checked the same way, a usage error when invalid. */
    public static final class NameConverter implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return checkName("model", value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
