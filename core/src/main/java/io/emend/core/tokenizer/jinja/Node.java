package io.emend.core.tokenizer.jinja;

import java.util.List;

/** A statement of a parsed template. */
sealed interface Node {

    /** Literal text, whitespace rules already applied. */
    record Text(String text) implements Node {
    }

    /** {@code {{ expr }}}. */
    record Output(Expr expr) implements Node {
    }

    /** {@code {% if %}…{% elif %}…{% else %}…{% endif %}}: the first branch whose test is true runs. */
    record If(List<Branch> branches, List<Node> otherwise) implements Node {
    }

    record Branch(Expr test, List<Node> body) {
    }

    /**
     * {@code {% for a[, b] in iterable [if filter] %}…{% else %}…{% endfor %}}; {@code otherwise} runs when nothing
     * was iterated.
     */
    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise)
            implements Node {
    }

    /** {@code {% set name = expr %}} or {@code {% set ns.attr = expr %}} (on a {@code namespace()}). */
    record Set(String name, String attribute, Expr value) implements Node {
    }
}
