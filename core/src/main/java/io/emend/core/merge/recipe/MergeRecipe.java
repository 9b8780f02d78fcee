package io.emend.core.merge.recipe;

import io.emend.core.merge.MergeMethod;
import io.emend.core.merge.ParameterValue;
import io.emend.core.tensor.DType;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed, validated merge recipe (the supported subset of mergekit's YAML). Models are references as written
 * (directory paths for a local merge, registry references for the service); resolving them is the caller's job.
 *
 * @param method       the merge method
 * @param baseModel    {@code base_model}
 * @param slices       the output slices; a {@code models:} recipe is one slice whose sources have no layer range
 * @param sliced       whether the recipe used {@code slices:} (layer ranges given, layers renumbered)
 * @param parameters   top-level {@code parameters}: global values, and per-model values that apply to every model
 * @param dtype        output dtype; empty keeps each tensor's input dtype
 * @param seed         {@code random_seed} (an Emend extension) for DARE's draws
 * @param source       the recipe's name and text, kept with the result as its record
 */
public record MergeRecipe(MergeMethod method, Optional<String> baseModel, List<Slice> slices, boolean sliced,
                          Map<String, ParameterValue> parameters, Optional<DType> dtype, long seed, Source source) {

    /** DARE's seed when the recipe gives none, so that an unchanged recipe always yields the same model. */
    public static final long DEFAULT_SEED = 0x5EED;

    public MergeRecipe {
        slices = List.copyOf(slices);
        parameters = Map.copyOf(parameters);
    }

    /** One output slice: its sources all contribute the same number of layers. */
    public record Slice(List<SliceSource> sources) {
        public Slice {
            sources = List.copyOf(sources);
        }
    }

    /** A model's part of a slice, with its own parameter values. */
    public record SliceSource(String model, Optional<LayerRange> layerRange, Map<String, ParameterValue> parameters) {
        public SliceSource {
            parameters = Map.copyOf(parameters);
        }
    }

    /** Layers {@code [start, end)} of a model. */
    public record LayerRange(int start, int end) {
        public int length() {
            return end - start;
        }
    }

    /** Where the recipe came from: a name for messages, its text, and whether it was JSON. */
    public record Source(String name, String text, boolean json) {
    }
}
