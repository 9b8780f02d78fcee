package io.emend.core.tokenizer.jinja;

import java.util.List;

/** An expression of a parsed template. */
sealed interface Expr {

    /** A string, number, boolean or none. */
    record Literal(Object value) implements Expr {
    }

    record Name(String name) implements Expr {
    }

    /** {@code [a, b]}. */
    record ListOf(List<Expr> items) implements Expr {
    }

    /** {@code {k: v}}. */
    record DictOf(List<Expr> keys, List<Expr> values) implements Expr {
    }

    /** {@code target.name}: a mapping's key, or a method when called. */
    record Attribute(Expr target, String name) implements Expr {
    }

    /** {@code target[index]}. */
    record Item(Expr target, Expr index) implements Expr {
    }

    /** {@code target[start:stop:step]}, each part optional (null). */
    record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {
    }

    /** {@code callee(args, name=value)}. */
    record Call(Expr callee, List<Expr> args, List<String> keywordNames, List<Expr> keywordValues) implements Expr {
    }

    /** {@code value | name(args)}. */
    record Filter(Expr value, String name, List<Expr> args) implements Expr {
    }

    /** {@code value is [not] name(args)}. */
    record Test(Expr value, String name, List<Expr> args, boolean negated) implements Expr {
    }

    /** Arithmetic, comparison, {@code ~}, {@code in}, {@code not in}; {@code and}/{@code or} short-circuit. */
    record Binary(String op, Expr left, Expr right) implements Expr {
    }

    /** {@code not x}, {@code -x}, {@code +x}. */
    record Unary(String op, Expr operand) implements Expr {
    }

    /** {@code then if test else otherwise}; without {@code else} the result is undefined when the test fails. */
    record Conditional(Expr test, Expr then, Expr otherwise) implements Expr {
    }
}
