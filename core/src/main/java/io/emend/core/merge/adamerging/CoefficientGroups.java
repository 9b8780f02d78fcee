package io.emend.core.merge.adamerging;

import io.emend.core.merge.LayerName;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which coefficient each tensor uses. Task-wise, one group holds every tensor. Layer-wise, each layer is a group
 * named by its prefix ({@code model.layers.3.}), and the tensors outside the layers (embeddings, final norm, head)
 * form one more group, last.
 *
 * @param granularity how the groups were formed
 * @param filters     per group, the prefix its tensors' names contain; empty for the catch-all group (the only one
 *                    task-wise, the outside-the-layers one layer-wise)
 * @param byTensor    tensor name to group index
 */
public record CoefficientGroups(Granularity granularity, List<Optional<String>> filters, Map<String, Integer> byTensor) {

    public CoefficientGroups {
        filters = List.copyOf(filters);
        byTensor = Map.copyOf(byTensor);
    }

    /** Groups over the tensors of a model, in its order. */
    public static CoefficientGroups of(Granularity granularity, List<String> tensorNames) {
        if (granularity == Granularity.TASK) {
            Map<String, Integer> all = new LinkedHashMap<>();
            tensorNames.forEach(n -> all.put(n, 0));
            return new CoefficientGroups(granularity, List.of(Optional.empty()), all);
        }
        Map<String, Integer> layerGroups = new LinkedHashMap<>();
        Map<Integer, String> prefixes = new java.util.TreeMap<>();
        for (String name : tensorNames) {
            LayerName.parse(name).ifPresent(l -> prefixes.put(l.index(), l.layerPrefix()));
        }
        List<Optional<String>> filters = new ArrayList<>();
        for (String prefix : prefixes.values()) {
            layerGroups.put(prefix, filters.size());
            filters.add(Optional.of(prefix));
        }
        int outside = filters.size();
        filters.add(Optional.empty());
        Map<String, Integer> byTensor = new LinkedHashMap<>();
        for (String name : tensorNames) {
            byTensor.put(name, LayerName.parse(name).map(l -> layerGroups.get(l.layerPrefix())).orElse(outside));
        }
        return new CoefficientGroups(granularity, filters, byTensor);
    }

    public int size() {
        return filters.size();
    }

    public int groupOf(String tensorName) {
        Integer g = byTensor.get(tensorName);
        if (g == null) {
            throw new IllegalArgumentException("tensor '" + tensorName + "' is in no coefficient group");
        }
        return g;
    }

    /** A label for reports: the prefix, or what the catch-all group holds. */
    public String label(int group) {
        return filters.get(group).orElse(granularity == Granularity.TASK ? "all tensors" : "outside the layers");
    }
}
