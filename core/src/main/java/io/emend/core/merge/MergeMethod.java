package io.emend.core.merge;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A way to combine tensors of models that share an architecture. Each method declares its parameters and merges
 * one tensor at a time (the executor streams a whole model through it); {@link MergeCatalog} finds them by name.
 *
 * <p>TIES and DARE are not separate classes: they are {@link TaskArithmetic} configured with a {@link Sparsifier}
 * and sign consensus, as in the papers, which present them as steps added to task arithmetic.
 */
public sealed interface MergeMethod permits Linear, TaskArithmetic, Slerp, AdaMerging {

    /** The name recipes use ({@code merge_method}). */
    String name();

    /** One line for listings. */
    String description();

    /** Every parameter this method reads. */
    List<Parameter> parameters();

    /** Whether the recipe must name a {@code base_model}; methods that need one get it apart from the other models. */
    boolean needsBase();

    /**
     * Whether each output element depends only on the same element of each input, so that the executor may merge
     * disjoint element ranges of one tensor at once (on several threads) and get the same bits.
     */
    default boolean elementwise() {
        return false;
    }

    /** Merges one tensor. Implementations read their inputs in chunks and write every output element once. */
    void merge(TensorMerge merge);

    /** A declared parameter, or an error listing the valid ones. */
    default Parameter parameter(String name) {
        return findParameter(name).orElseThrow(() -> new MergeException("merge method '" + name()
                + "' has no parameter '" + name + "' (valid: " + describeParameters() + ")"));
    }

    default Optional<Parameter> findParameter(String name) {
        return parameters().stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** {@code weight (per model, required), normalize (global, default true)}. */
    default String describeParameters() {
        return parameters().stream().map(Parameter::describe).collect(Collectors.joining(", "));
    }
}
