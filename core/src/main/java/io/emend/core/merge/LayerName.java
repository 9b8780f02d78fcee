package io.emend.core.merge;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tensor name inside a decoder layer, split around the layer number: {@code model.layers.} {@code 3}
 * {@code .mlp.down_proj.weight} (Llama family) or {@code transformer.h.} {@code 3} {@code .attn.c_attn.weight}
 * (GPT-2). Slices renumber layers by it and AdaMerging groups coefficients by it.
 *
 * @param prefix everything up to and including the dot before the number
 * @param index  the layer number
 * @param suffix everything after the number, starting with its dot
 */
public record LayerName(String prefix, int index, String suffix) {

    /** {@code <prefix>.layers.<n>.<rest>} or {@code <prefix>.h.<n>.<rest>}. */
    public static final Pattern PATTERN = Pattern.compile("^(.*?(?:^|\\.)(?:layers|h)\\.)(\\d+)(\\..+)$");

    /** The parts of a layer tensor's name; empty for tensors outside the layers (embeddings, final norm, head). */
    public static Optional<LayerName> parse(String tensorName) {
        Matcher m = PATTERN.matcher(tensorName);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new LayerName(m.group(1), Integer.parseInt(m.group(2)), m.group(3)));
    }

    /** The text every tensor of this layer starts with, {@code model.layers.3.}: no other layer's names contain it. */
    public String layerPrefix() {
        return prefix + index + ".";
    }
}
