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
 *   <tr><td>λ (MEMIT), per key dimension d</td><td>1.0·d (GPT-J 15000 at d = 16384, Llama-2-7B 15000 at 11008)</td>
 *       <td>3.0·d (GPT-2 XL: 20000 at 6400)</td></tr>
 *   <tr><td>λ when d &lt; 1024</td><td colspan="2">0.1·d (tuned on stories260k, d = 172: at 1.0·d a single edit
 *       writes only d/(λ+d) ≈ half its residual per layer, too little to flip any fact of that model)</td></tr>
 *   <tr><td>clamp ‖δ‖/‖v₀‖</td><td colspan="2">ROME 4, MEMIT/AlphaEdit 0.75</td></tr>
 *   <tr><td>KL weight, lr, steps</td><td colspan="2">0.0625, 0.5, ROME 20 / MEMIT 25</td></tr>
 *   <tr><td>weight decay</td><td>1e-3</td><td>0.5</td></tr>
 *   <tr><td>AlphaEdit</td><td colspan="2">null space holding 5% of the keys' energy, α = 1e-2 of the mean eigenvalue, batches of 100</td></tr>
 * </table>
 * Models shallower than 8 layers (the fixtures) use two MEMIT layers starting at layer 1 where they have them, because a
 * single layer gives the least-squares spreading nothing to spread over. No default (and no explicit choice) is the
 * last layer: see {@link #highestEditableLayer}. A 2-layer model is edited at layer 0 by every method.
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
        int highest = highestEditableLayer(depth);
        boolean gpt2 = config instanceof Gpt2Config;
        if (method == EditMethod.ROME) {
            return List.of(clamp((int) Math.round((gpt2 ? 0.35 : 0.16) * depth), highest));
        }
        int first = clamp((int) Math.round((gpt2 ? 0.27 : 0.125) * depth), highest);
        int last = clamp((int) Math.round((gpt2 ? 0.35 : 0.25) * depth), highest);
        if (depth < 8) {
            first = Math.min(1, highest);
            last = Math.min(highest, first + 1);
        }
        return MemitParams.range(first, Math.max(first, last));
    }

    /**
     * The deepest layer an edit may write (or, for MEMIT, set its target z after): one before the last. The value is
     * found by changing the hidden state at the subject's last token and must reach the positions after the subject
     * through attention; after the last layer no attention follows, the target's logits do not depend on it, and the
     * optimisation sees a zero gradient (a 2-layer model with MEMIT on layer 1 wrote nothing at all).
     */
    public static int highestEditableLayer(int depth) {
        return Math.max(0, depth - 2);
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
            if (l > highestEditableLayer(config.numLayers())) {
                throw new IllegalArgumentException("layer " + l + " is the model's last: an edit there cannot reach the "
                        + "tokens after the subject (no attention follows it); edit layers 0.."
                        + highestEditableLayer(config.numLayers()));
            }
        }
        TargetOptions target = target(method, config);
        double lambda = covarianceWeight(config);
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

    /** MEMIT's λ for a model: a multiple of the key dimension (see the table). */
    public static double covarianceWeight(ModelConfig config) {
        int keyDim = switch (config) {
            case LlamaConfig c -> c.intermediateSize();
            case Gpt2Config c -> c.intermediateSize();
        };
        double perDimension = keyDim < 1024 ? 0.1 : config instanceof Gpt2Config ? 3.0 : 1.0;
        return perDimension * keyDim;
    }

    private static int clamp(int layer, int highest) {
        return Math.max(0, Math.min(highest, layer));
    }
}
