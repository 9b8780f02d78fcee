package io.emend.core.merge;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The merge methods Emend knows, by the names mergekit recipes use. */
public final class MergeCatalog {

    /** Every method: linear, task_arithmetic, ties, dare_linear, dare_ties, slerp, adamerging. */
    public static final MergeCatalog STANDARD = new MergeCatalog(List.of(
            new Linear(),
            TaskArithmetic.plain(),
            TaskArithmetic.ties(),
            TaskArithmetic.dareLinear(),
            TaskArithmetic.dareTies(),
            new Slerp(),
            new AdaMerging()));

    private final Map<String, MergeMethod> byName = new LinkedHashMap<>();

    public MergeCatalog(List<MergeMethod> methods) {
        for (MergeMethod m : methods) {
            if (byName.putIfAbsent(m.name(), m) != null) {
                throw new IllegalArgumentException("merge method '" + m.name() + "' is registered twice");
            }
        }
    }

    public List<MergeMethod> methods() {
        return List.copyOf(byName.values());
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    public Optional<MergeMethod> lookup(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The method called {@code name}, or a {@link MergeException} listing the valid names. */
    public MergeMethod find(String name) {
        return lookup(name).orElseThrow(() -> new MergeException("unknown merge method '" + name
                + "' (valid: " + String.join(", ", names()) + ")"));
    }
}
