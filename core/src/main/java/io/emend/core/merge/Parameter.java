package io.emend.core.merge;

import java.util.List;
import java.util.OptionalDouble;

/**
 * A parameter a merge method declares.
 *
 * @param name         the name used in recipes ({@code weight}, {@code density}, {@code t}, ...)
 * @param scope        whether each input model gets its own value or the merge has one
 * @param kind         what values are accepted
 * @param defaultValue empty when the parameter is required; for a choice, the index of the default
 * @param perTensor    whether the value may differ per tensor (gradients, filters); a setting (AdaMerging's
 *                     {@code steps}, or its initial per-model {@code weight}) takes one plain value
 * @param choices      the accepted words of a {@link Kind#CHOICE}, empty otherwise
 */
public record Parameter(String name, Scope scope, Kind kind, OptionalDouble defaultValue, boolean perTensor,
                        List<String> choices) {

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
        /** Recipes write flags as {@code true}/{@code false}. */
        FLAG,
        /** A positive whole number (a count of steps or sequences). */
        COUNT,
        /** One word of {@link #choices()}; its value is the word's index. */
        CHOICE,
        /** A string (a file reference); read from the recipe, never resolved per tensor. */
        TEXT
    }

    public Parameter {
        choices = List.copyOf(choices);
        if ((kind == Kind.CHOICE) == choices.isEmpty()) {
            throw new IllegalArgumentException("parameter '" + name + "': a choice needs words, other kinds none");
        }
    }

    public static Parameter required(String name, Scope scope) {
        return new Parameter(name, scope, Kind.NUMBER, OptionalDouble.empty(), true, List.of());
    }

    public static Parameter number(String name, Scope scope, double defaultValue) {
        return new Parameter(name, scope, Kind.NUMBER, OptionalDouble.of(defaultValue), true, List.of());
    }

    public static Parameter flag(String name, boolean defaultValue) {
        return new Parameter(name, Scope.GLOBAL, Kind.FLAG, OptionalDouble.of(defaultValue ? 1 : 0), true, List.of());
    }

    /** A number that is the same for every tensor: of the whole merge, or of each model. */
    public static Parameter setting(String name, Scope scope, double defaultValue) {
        return new Parameter(name, scope, Kind.NUMBER, OptionalDouble.of(defaultValue), false, List.of());
    }

    /** A positive whole number of the whole merge. */
    public static Parameter count(String name, int defaultValue) {
        return new Parameter(name, Scope.GLOBAL, Kind.COUNT, OptionalDouble.of(defaultValue), false, List.of());
    }

    /** One of {@code choices} for the whole merge; the first is the default. */
    public static Parameter choice(String name, List<String> choices) {
        return new Parameter(name, Scope.GLOBAL, Kind.CHOICE, OptionalDouble.of(0), false, choices);
    }

    /** A required string of the whole merge. */
    public static Parameter text(String name) {
        return new Parameter(name, Scope.GLOBAL, Kind.TEXT, OptionalDouble.empty(), false, List.of());
    }

    public boolean required() {
        return defaultValue.isEmpty();
    }

    /** How the parameter reads in a listing: {@code density (per model, default 1.0)}. */
    public String describe() {
        String where = scope == Scope.GLOBAL ? "global" : "per model";
        String value;
        if (kind == Kind.CHOICE) {
            value = String.join(" | ", choices) + ", default " + choices.get((int) defaultValue.getAsDouble());
        } else if (required()) {
            value = kind == Kind.TEXT ? "required text" : "required";
        } else {
            value = "default " + switch (kind) {
                case FLAG -> String.valueOf(defaultValue.getAsDouble() != 0);
                case COUNT -> String.valueOf((long) defaultValue.getAsDouble());
                default -> String.valueOf(defaultValue.getAsDouble());
            };
        }
        return name + " (" + where + ", " + value + ")";
    }
}
