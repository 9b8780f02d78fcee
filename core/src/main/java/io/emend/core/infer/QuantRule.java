package io.emend.core.infer;

import io.emend.core.quant.WeightFormat;
import java.util.Locale;

/**
 * Which storage format each kind of weight gets when a model is loaded into the engine (a model's serving config
 * carries it). Matrices whose rows are not whole 32-weight blocks cannot be Q8_0/Q4_0 and fall back to F16, as
 * llama.cpp's quantizer does; norms and biases always stay F32.
 *
 * @param attention q, k, v and o projections
 * @param mlp       gate, up and down projections
 * @param head      the LM head and the token embedding (one matrix when they are tied)
 */
public record QuantRule(WeightFormat attention, WeightFormat mlp, WeightFormat head) {

    /** llama.cpp's usual trade: 8-bit attention and head, 4-bit MLP (two thirds of the weights). */
    public static final QuantRule MIXED = new QuantRule(WeightFormat.Q8_0, WeightFormat.Q4_0, WeightFormat.Q8_0);

    /** Every matrix in one format. */
    public static QuantRule uniform(WeightFormat format) {
        return new QuantRule(format, format, format);
    }

    /** Kinds of matrices the rule distinguishes. */
    public enum Role {
        ATTENTION,
        MLP,
        HEAD
    }

    /** The format for a matrix of this role with {@code cols} columns. */
    public WeightFormat formatFor(Role role, long cols) {
        WeightFormat f = switch (role) {
            case ATTENTION -> attention;
            case MLP -> mlp;
            case HEAD -> head;
        };
        return f.blocked() && cols % WeightFormat.BLOCK != 0 ? WeightFormat.F16 : f;
    }

    /**
     * Parses {@code q8_0} (every matrix), {@code mixed}, or a list such as {@code attention=q8_0,mlp=q4_0,head=q8_0}
     * (roles left out stay F32).
     */
    public static QuantRule parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("mixed")) {
            return MIXED;
        }
        if (!s.contains("=")) {
            return uniform(WeightFormat.parse(s));
        }
        WeightFormat attention = WeightFormat.F32;
        WeightFormat mlp = WeightFormat.F32;
        WeightFormat head = WeightFormat.F32;
        for (String part : s.split(",")) {
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("quantization rule part '" + part + "' is not role=format");
            }
            WeightFormat f = WeightFormat.parse(kv[1]);
            switch (kv[0].trim()) {
                case "attention" -> attention = f;
                case "mlp" -> mlp = f;
                case "head" -> head = f;
                default -> throw new IllegalArgumentException("unknown role '" + kv[0].trim()
                        + "' in quantization rule (expected attention, mlp or head)");
            }
        }
        return new QuantRule(attention, mlp, head);
    }

    @Override
    public String toString() {
        return "attention=" + attention + ",mlp=" + mlp + ",head=" + head;
    }
}
