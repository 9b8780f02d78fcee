package io.emend.serving.model;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a request's {@code model} field names: a base reference ({@code name}, {@code name@alias} or
 * {@code name:version}, the registry's reference syntax) and optionally a delta on top of it after a {@code +}
 * ({@code support-bot@production+support-lora:3}), itself a reference.
 *
 * @param base    the base model's reference
 * @param adapter the adapter's reference, when the request asks for one
 */
public record ModelName(String base, Optional<String> adapter) {

    private static final String NAME = "[a-z0-9][a-z0-9._-]{0,63}";
    /** The registry's reference grammar (services/registry/API.md). */
    private static final Pattern REFERENCE = Pattern.compile(NAME + "(@" + NAME + "|:[1-9][0-9]{0,8})?");

    /**
     * Parses {@code text}.
     *
     * @throws InvalidRequest naming {@code field} when it does not follow the grammar
     */
    public static ModelName parse(String field, String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidRequest(field, "you must name a model");
        }
        int plus = text.indexOf('+');
        String base = plus < 0 ? text : text.substring(0, plus);
        Optional<String> adapter = plus < 0 ? Optional.empty() : Optional.of(text.substring(plus + 1));
        checkReference(field, base);
        adapter.ifPresent(a -> checkReference(field, a));
        return new ModelName(base, adapter);
    }

    /** A base reference with an adapter given separately (the request's {@code emend.adapter} field). */
    public ModelName withAdapter(String field, String adapterRef) {
        checkReference(field, adapterRef);
        if (adapter.isPresent() && !adapter.get().equals(adapterRef)) {
            throw new InvalidRequest(field, "names adapter '" + adapterRef + "' but the model name already carries '"
                    + adapter.get() + "'");
        }
        return new ModelName(base, Optional.of(adapterRef));
    }

    public static void checkReference(String field, String ref) {
        if (!REFERENCE.matcher(ref).matches()) {
            throw new InvalidRequest(field, "'" + ref + "' is not a model reference: use name, name@alias or"
                    + " name:version (lowercase letters, digits, '.', '_', '-'), optionally followed by +adapter");
        }
    }

    @Override
    public String toString() {
        return adapter.map(a -> base + "+" + a).orElse(base);
    }
}
