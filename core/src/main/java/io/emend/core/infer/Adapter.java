package io.emend.core.infer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A named set of low-rank deltas over a base model (one LoRA adapter, one batch of edits, or several of those
 * combined). A sequence carries at most one; sequences in the same batch may carry different ones or none. Adapters
 * are plain values: loading one is building it, unloading is dropping the last reference.
 */
public final class Adapter {

    /** Where a delta applies. */
    public record Target(int layer, Projection projection) {
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
