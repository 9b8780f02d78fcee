package io.emend.core.train;

import java.util.Arrays;
import java.util.Locale;

/** What a fine-tune trains. */
public enum Method {
    /** Low-rank factors A, B per target projection; the base stays frozen. */
    LORA,
    /** LoRA plus a per-output magnitude vector: weight-decomposed low-rank adaptation. */
    DORA,
    /** Every parameter (as a dense delta over the frozen base, merged on output); for small models. */
    FULL;

    /** Parses {@code lora}, {@code dora} or {@code full} (any case). */
    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.name().equalsIgnoreCase(s)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + s + "'; valid methods: "
                + String.join(", ", Arrays.stream(values()).map(m -> m.name().toLowerCase(Locale.ROOT)).toList()));
    }
}
