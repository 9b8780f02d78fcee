package io.emend.core.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How to run one forward: deltas added to weights, probes to capture, an intervention, a KV cache, and which logits to
 * compute. Immutable; each {@code with*} returns a copy.
 *
 * @param deltas       weight name (as {@link Transformer#parameterNames()}) to the deltas added to it, in order
 * @param captures     probes whose values the result should carry
 * @param intervention called at every probe, or null
 * @param cache        past keys/values to extend, or null for a full forward
 * @param logits       which positions get logits
 */
public record ForwardOptions(
        Map<String, List<WeightDelta>> deltas,
        Set<Probe> captures,
        Intervention intervention,
        KvCache cache,
        LogitsScope logits) {

    public ForwardOptions {
        Map<String, List<WeightDelta>> d = new LinkedHashMap<>();
        deltas.forEach((k, v) -> d.put(k, List.copyOf(v)));
        deltas = java.util.Collections.unmodifiableMap(d);
        captures = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(captures));
        if (logits == null) {
            throw new IllegalArgumentException("logits scope is required");
        }
    }

    /** No deltas, no probes, no cache, logits for every position. */
    public static ForwardOptions defaults() {
        return new ForwardOptions(Map.of(), Set.of(), null, null, LogitsScope.ALL);
    }

    public ForwardOptions withDelta(String weight, WeightDelta delta) {
        Map<String, List<WeightDelta>> d = new LinkedHashMap<>(deltas);
        List<WeightDelta> list = new ArrayList<>(d.getOrDefault(weight, List.of()));
        list.add(delta);
        d.put(weight, list);
        return new ForwardOptions(d, captures, intervention, cache, logits);
    }

    public ForwardOptions withDeltas(Map<String, List<WeightDelta>> more) {
        ForwardOptions o = this;
        for (Map.Entry<String, List<WeightDelta>> e : more.entrySet()) {
            for (WeightDelta delta : e.getValue()) {
                o = o.withDelta(e.getKey(), delta);
            }
        }
        return o;
    }

    public ForwardOptions withCaptures(Probe... probes) {
        Set<Probe> c = new LinkedHashSet<>(captures);
        c.addAll(List.of(probes));
        return new ForwardOptions(deltas, c, intervention, cache, logits);
    }

    public ForwardOptions withIntervention(Intervention i) {
        return new ForwardOptions(deltas, captures, i, cache, logits);
    }

    public ForwardOptions withCache(KvCache c) {
        return new ForwardOptions(deltas, captures, intervention, c, logits);
    }

    public ForwardOptions withLogits(LogitsScope scope) {
        return new ForwardOptions(deltas, captures, intervention, cache, scope);
    }
}
