package io.emend.core.infer;

/** The linear maps of a Llama block, named as in Hugging Face checkpoints and PEFT adapters. */
public enum Projection {
    Q("self_attn.q_proj"),
    K("self_attn.k_proj"),
    V("self_attn.v_proj"),
    O("self_attn.o_proj"),
    GATE("mlp.gate_proj"),
    UP("mlp.up_proj"),
    DOWN("mlp.down_proj");

    private final String hfName;

    Projection(String hfName) {
        this.hfName = hfName;
    }

    /** The module path inside a block, e.g. {@code self_attn.q_proj}. */
    public String hfName() {
        return hfName;
    }

    /** The projection whose module path ends {@code name}'s dotted path, if any. */
    public static java.util.Optional<Projection> fromModulePath(String path) {
        for (Projection p : values()) {
            if (path.endsWith(p.hfName)) {
                return java.util.Optional.of(p);
            }
        }
        return java.util.Optional.empty();
    }
}
