package io.emend.core.train.lora;

import io.emend.core.graph.Transformer;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which projections an adapter covers. Targets are module names matched, as PEFT matches a list, against the last
 * component of each projection's module name ({@code q_proj} matches {@code model.layers.3.self_attn.q_proj}).
 */
public final class LoraTargets {

    /** Llama family default: every attention and MLP projection. */
    public static final List<String> LLAMA_DEFAULT =
            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    /** GPT-2 default: fused q/k/v, attention output, and both MLP projections ({@code c_proj} names two). */
    public static final List<String> GPT2_DEFAULT = List.of("c_attn", "c_proj", "c_fc");

    private LoraTargets() {
    }

    public static List<String> defaults(Transformer model) {
        return switch (model.config()) {
            case LlamaConfig c -> LLAMA_DEFAULT;
            case Gpt2Config c -> GPT2_DEFAULT;
        };
    }

    /**
     * The weight names (as {@link Transformer#parameterNames()}) of every projection a target names, in model order.
     *
     * @throws IllegalArgumentException for a target that matches no projection, listing the valid ones
     */
    public static List<String> resolve(Transformer model, List<String> targets) {
        List<String> wanted = targets.isEmpty() ? defaults(model) : targets;
        Set<String> valid = new TreeSet<>();
        Set<String> matched = new LinkedHashSet<>();
        List<String> weights = new ArrayList<>();
        for (String name : model.parameterNames()) {
            if (!model.isProjection(name) || !name.endsWith(".weight")) {
                continue;
            }
            String module = name.substring(0, name.length() - ".weight".length());
            String last = module.substring(module.lastIndexOf('.') + 1);
            valid.add(last);
            if (wanted.contains(last)) {
                weights.add(name);
                matched.add(last);
            }
        }
        for (String t : wanted) {
            if (!matched.contains(t)) {
                throw new IllegalArgumentException("target module '" + t + "' matches no projection of this model; "
                        + "valid target modules: " + String.join(", ", valid));
            }
        }
        return weights;
    }

    /** The module name of a weight ({@code model.layers.0.self_attn.q_proj} for its {@code .weight}). */
    public static String moduleOf(String weightName) {
        return weightName.substring(0, weightName.length() - ".weight".length());
    }
}
