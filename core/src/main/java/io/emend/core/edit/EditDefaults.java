package io.emend.core.edit;

import io.emend.core.edit.alphaedit.AlphaEditParams;
import io.emend.core.edit.alphaedit.AlphaEditor;
import io.emend.core.edit.memit.MemitEditor;
import io.emend.core.edit.memit.MemitParams;
import io.emend.core.edit.rome.RomeEditor;
import io.emend.core.edit.rome.RomeParams;
import io.emend.core.model.Gpt2Config;
import io.emend.core.model.LlamaConfig;
import io.emend.core.model.ModelConfig;

import java.util.List;
import java.util.Optional;

/**
 * Default settings per architecture and depth, taken from the papers' published settings as fractions of depth so
 * they carry over to other sizes:
 * <table>
 *   <caption>defaults</caption>
 *   <tr><th></th><th>Llama family</th><th>GPT-2</th></tr>
 *   <tr><td>ROME layer</td><td>0.16·L (Llama-2-7B: 5 of 32)</td><td>0.35·L (GPT-2 XL: 17 of 48)</td></tr>
 *   <tr><td>MEMIT / AlphaEdit layers</td><td>0.125·L … 0.25·L (4–8 of 32)</td><td>0.27·L … 0.35·L (13–17 of 48)</td></tr>
 *   <tr><td>λ (MEMIT)</td><td>15000</td><td>20000</td></tr>
 *   <tr><td>clamp ‖δ‖/‖v₀‖</td><td colspan="2">ROME 4, MEMIT/AlphaEdit 0.75</td></tr>
 *   <tr><td>KL weight, lr, steps</td><td colspan="2">0.0625, 0.5, ROME 20 / MEMIT 25</td></tr>
 *   <tr><td>weight decay</td><td>1e-3</td><td>0.5</td></tr>
 *   <tr><td>AlphaEdit</td><td colspan="2">null space holding 5% of the keys' energy, α = 1e-2 of the mean eigenvalue, batches of 100</td></tr>
 * </table>
 * Models shallower than 8 layers (the fixtures) use at least two MEMIT layers starting at layer 1, because a single
 * layer gives the least-squares spreading nothing to spread over.
 */
public final class EditDefaults {

    /** The most requests one call accepts; MEMIT's factors outgrow a dense delta long before. */
    public static final int MAX_EDITS = 10_000;

    private EditDefaults() {
    }

    /** The target optimisation for a method and architecture. */
    public static TargetOptions target(EditMethod method, ModelConfig config) {
        double decay = config instanceof Gpt2Config ? 0.5 : 1e-3;
        return switch (method) {
            case ROME -> new TargetOptions(20, 0.5, 0.0625, decay, 4.0, 0.05, 5, 10);
            case MEMIT, ALPHAEDIT -> new TargetOptions(25, 0.5, 0.0625, decay, 0.75, 0.05, 5, 10);
        };
    }

    /** The default layer(s) a method edits on a model of this architecture and depth. */
    public static List<Integer> layers(EditMethod method, ModelConfig config) {
        int depth = config.numLayers();
        boolean gpt2 = config instanceof Gpt2Config;
        if (method == EditMethod.ROME) {
            return List.of(clamp((int) Math.round((gpt2 ? 0.35 : 0.16) * depth), depth));
        }
        int first = clamp((int) Math.round((gpt2 ? 0.27 : 0.125) * depth), depth);
        int last = clamp((int) Math.round((gpt2 ? 0.35 : 0.25) * depth), depth);
        if (depth < 8) {
            first = Math.min(1, depth - 1);
            last = Math.min(depth - 1, first + 1);
        }
        return MemitParams.range(first, Math.max(first, last));
    }

    /**
     * An editor with the defaults, or with {@code layers} instead of the default layers (ROME takes the first).
     *
     * @throws IllegalArgumentException when a layer is outside the model
     */
    public static KnowledgeEditor editor(EditMethod method, ModelConfig config, Optional<List<Integer>> layers) {
        List<Integer> chosen = layers.orElseGet(() -> layers(method, config));
        for (int l : chosen) {
            if (l < 0 || l >= config.numLayers()) {
                throw new IllegalArgumentException("layer " + l + " is outside the model's " + config.numLayers()
                        + " layers (0.." + (config.numLayers() - 1) + ")");
            }
        }
        TargetOptions target = target(method, config);
        double lambda = config instanceof LlamaConfig ? 15000 : 20000;
        return switch (method) {
            case ROME -> {
                if (chosen.size() != 1) {
                    throw new IllegalArgumentException("ROME edits one layer; got " + chosen);
                }
                yield new RomeEditor(new RomeParams(chosen.getFirst(), target));
            }
            case MEMIT -> new MemitEditor(new MemitParams(chosen, lambda, target));
            case ALPHAEDIT -> new AlphaEditor(new AlphaEditParams(new MemitParams(chosen, lambda, target), 0.05, 1e-2,
                    100));
        };
    }

    private static int clamp(int layer, int depth) {
        return Math.max(0, Math.min(depth - 1, layer));
    }
}
