package io.emend.merger.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Pattern;

/**
 * Where a request's result goes: {@code output: {model, alias?}}, the same for recipe merges and adapter requests.
 *
 * @param model the output model's name (created if absent)
 * @param alias the alias to move to the result, or null
 */
public record Output(String model, String alias) {

    /** The registry's name rule, checked here so a bad name fails at submission, not after the merge. */
    private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
    private static final String NAME_RULE = "lower-case letters, digits, '.', '_' or '-', starting with a letter or"
            + " digit, at most 64 characters";

    /**
     * @param output the {@code output} value, or null when the request has none
     * @throws InvalidRequest when it is absent or malformed
     */
    public static Output of(JsonNode output) {
        if (output == null) {
            throw new InvalidRequest("output", "output is required: where the merged model goes, as"
                    + " {model: NAME, alias: ALIAS?}");
        }
        if (!output.isObject()) {
            throw new InvalidRequest("output", "output must be a map {model: NAME, alias: ALIAS?}");
        }
        for (var names = output.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!key.equals("model") && !key.equals("alias")) {
                throw new InvalidRequest("output." + key, "output." + key + " is not supported (valid: model, alias)");
            }
        }
        return new Output(name(output, "model", true), name(output, "alias", false));
    }

    private static String name(JsonNode output, String key, boolean required) {
        JsonNode value = output.get(key);
        if (value == null || value.isNull()) {
            if (required) {
                throw new InvalidRequest("output." + key, "output." + key + " is required");
            }
            return null;
        }
        if (!value.isTextual() || !NAME.matcher(value.asText()).matches()) {
            throw new InvalidRequest("output." + key, "output." + key + " '" + value.asText() + "' is not a valid name ("
                    + NAME_RULE + ")");
        }
        return value.asText();
    }
}
