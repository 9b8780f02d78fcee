package io.emend.registry;

import io.emend.registry.problem.RegistryException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one rule for the names users choose (models, aliases, tags): lower case, digits, {@code .}, {@code _} and
 * {@code -}, starting with a letter or digit, at most 64 characters. Names appear in URLs, Kafka keys and file paths,
 * so nothing else is allowed.
 */
public final class Name {

    public static final String REGEX = "^[a-z0-9][a-z0-9._-]{0,63}$";
    public static final String RULE = "must match " + REGEX;
    private static final Pattern PATTERN = Pattern.compile(REGEX);

    private Name() {
    }

    public static boolean valid(String value) {
        return value != null && PATTERN.matcher(value).matches();
    }

    /** Returns {@code value} when it is a valid name, otherwise throws a 400 that names {@code field}. */
    public static String check(String field, String value) {
        if (!valid(value)) {
            throw new InvalidName(field, value);
        }
        return value;
    }

    /** A name that breaks the rule. */
    public static final class InvalidName extends RegistryException.InvalidInput {
        InvalidName(String field, String value) {
            super("invalid-name", field + " '" + value + "' is not a valid name: it " + RULE,
                    List.of(new FieldError(field, RULE)));
        }
    }
}
