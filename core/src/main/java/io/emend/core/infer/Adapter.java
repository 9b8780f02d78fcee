package io.emend.core.infer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named set of low-rank deltas over a base model (one LoRA adapter, one batch of edits, or several of those
 * combined). A sequence carries at most one; sequences in the same batch may carry different ones or none. Adapters
 * are plain values: loading one is building it, unloading is dropping the last reference.
 */
public final class Adapter {

    /** Where a delta applies. */
    public record Target(int layer, Projection projection) {
    }

    /** A block's index in a module path: Llama's {@code model.layers.3.}, GPT-2's {@code transformer.h.3.}. */
    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h)\\.(\\d+)\\.(.+)$");
    /** GPT-2's Conv1D modules inside a block and the projections they hold; c_attn fuses q, k, v (in that order). */
    private static final Map<String, List<Projection>> GPT2_MODULES = Map.of(
            "attn.c_attn", List.of(Projection.Q, Projection.K, Projection.V),
            "attn.c_proj", List.of(Projection.O),
            "mlp.c_fc", List.of(Projection.UP),
            "mlp.c_proj", List.of(Projection.DOWN));

    /**
     * {@code delta}, given on the Hugging Face module at {@code modulePath} ({@code model.layers.3.mlp.down_proj},
     * {@code transformer.h.1.attn.c_attn}) in {@code Linear} orientation ([out, in], as PEFT stores LoRA factors for
     * Conv1D modules too), as the engine's per-projection deltas. A fused module's output rows are split evenly among
     * its projections: GPT-2's c_attn gives q, k and v, each keeping the whole of A. Empty when the path names no
     * projection of a layer.
     *
     * @throws IllegalArgumentException when a fused module's rows do not split evenly
     */
    public static Optional<Map<Target, LowRankDelta>> onModule(String modulePath, LowRankDelta delta) {
        Matcher m = LAYER.matcher(modulePath);
        if (!m.find()) {
            return Optional.empty();
        }
        int layer = Integer.parseInt(m.group(1));
        String inner = m.group(2);
        List<Projection> projections = GPT2_MODULES.get(inner);
        if (projections == null) {
            projections = Projection.fromModulePath(inner).map(List::of).orElse(List.of());
        }
        if (projections.isEmpty()) {
            return Optional.empty();
        }
        if (delta.out() % projections.size() != 0) {
            throw new IllegalArgumentException(modulePath + " fuses " + projections.size() + " projections but its delta"
                    + " has " + delta.out() + " output rows");
        }
        int rows = delta.out() / projections.size();
        Map<Target, LowRankDelta> out = new HashMap<>();
        for (int i = 0; i < projections.size(); i++) {
            out.put(new Target(layer, projections.get(i)),
                    projections.size() == 1 ? delta : delta.rows(i * rows, (i + 1) * rows));
        }
        return Optional.of(out);
    }

    private final String name;
    private final Map<Target, List<LowRankDelta>> deltas;
    private final int maxRank;

    public Adapter(String name, Map<Target, List<LowRankDelta>> deltas) {
        this.name = Objects.requireNonNull(name, "name");
        Map<Target, List<LowRankDelta>> copy = new HashMap<>();
        int max = 0;
        for (var e : deltas.entrySet()) {
            copy.put(e.getKey(), List.copyOf(e.getValue()));
            for (LowRankDelta d : e.getValue()) {
                max = Math.max(max, d.rank());
            }
        }
        this.deltas = Map.copyOf(copy);
        this.maxRank = max;
    }

    /** One delta per target. */
    public static Adapter of(String name, Map<Target, LowRankDelta> deltas) {
        Map<Target, List<LowRankDelta>> lists = new HashMap<>();
        deltas.forEach((t, d) -> lists.put(t, List.of(d)));
        return new Adapter(name, lists);
    }

    /** This adapter's deltas followed by {@code other}'s (e.g. an edit batch on top of a LoRA adapter). */
    public Adapter plus(String combinedName, Adapter other) {
        Map<Target, List<LowRankDelta>> all = new HashMap<>();
        for (Adapter a : List.of(this, other)) {
            a.deltas.forEach((t, list) -> all.computeIfAbsent(t, k -> new ArrayList<>()).addAll(list));
        }
        return new Adapter(combinedName, all);
    }

    public String name() {
        return name;
    }

    /** The deltas on one projection of one layer (empty when untouched). */
    public List<LowRankDelta> deltas(int layer, Projection projection) {
        return deltas.getOrDefault(new Target(layer, projection), List.of());
    }

    public Map<Target, List<LowRankDelta>> all() {
        return deltas;
    }

    /** The largest rank of any delta: the scratch size a forward needs. */
    public int maxRank() {
        return maxRank;
    }

    @Override
    public String toString() {
        return "Adapter[" + name + ", " + deltas.size() + " projections]";
    }
}
