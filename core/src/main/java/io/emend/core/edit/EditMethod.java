package io.emend.core.edit;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The editing algorithms Emend runs, by the names requests use. */
public enum EditMethod {
    /** One rank-one update per edit, applied one after another, on a single layer (Meng et al., 2022). */
    ROME,
    /** All edits at once as a least-squares update spread over a range of layers (Meng et al., 2023). */
    MEMIT,
    /** MEMIT's update projected onto the null space of preserved keys, over sequential batches (Fang et al., 2025). */
    ALPHAEDIT;

    /** The lower-case name ({@code rome}, {@code memit}, {@code alphaedit}). */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException naming the valid methods */
    public static EditMethod parse(String name) {
        for (EditMethod m : values()) {
            if (m.id().equalsIgnoreCase(name.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown edit method '" + name + "'; valid methods: "
                + Arrays.stream(values()).map(EditMethod::id).collect(Collectors.joining(", ")));
    }
}
