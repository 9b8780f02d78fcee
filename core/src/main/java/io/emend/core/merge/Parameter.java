package io.emend.core.merge;

import java.util.OptionalDouble;

/**
 * A parameter a merge method declares.
 *
 * @param name         the name used in recipes ({@code weight}, {@code density}, {@code t}, ...)
 * @param scope        whether each input model gets its own value or the merge has one
 * @param kind         a number or an on/off flag (recipes write flags as {@code true}/{@code false})
 * @param defaultValue empty when the parameter is required
 */
public record Parameter(String name, Scope scope, Kind kind, OptionalDouble defaultValue) {

    /** Who a value belongs to. */
    public enum Scope {
        /** One value for the whole merge (per tensor): {@code t}, {@code lambda}, {@code normalize}. */
        GLOBAL,
        /** One value per input model (per tensor): {@code weight}, {@code density}. */
        PER_MODEL
    }

    /** What values are accepted. */
    public enum Kind {
        NUMBER,
        FLAG
    }

    public static Parameter required(String name, Scope scope) {
        return new Parameter(name, scope, Kind.NUMBER, OptionalDouble.empty());
    }

    public static Parameter number(String name, Scope scope, double defaultValue) {
        return new Parameter(name, scope, Kind.NUMBER, OptionalDouble.of(defaultValue));
    }

    public static Parameter flag(String name, boolean defaultValue) {
        return new Parameter(name, Scope.GLOBAL, Kind.FLAG, OptionalDouble.of(defaultValue ? 1 : 0));
    }

    public boolean required() {
        return defaultValue.isEmpty();
    }

    /** How the parameter reads in a listing: {@code density (per model, default 1.0)}. */
    public String describe() {
        String where = scope == Scope.GLOBAL ? "global" : "per model";
        String value = required() ? "required"
                : "default " + (kind == Kind.FLAG ? String.valueOf(defaultValue.getAsDouble() != 0) : defaultValue.getAsDouble());
        return name + " (" + where + ", " + value + ")";
    }
}
