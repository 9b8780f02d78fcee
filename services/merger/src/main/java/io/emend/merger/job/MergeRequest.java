package io.emend.merger.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.emend.core.merge.AdaMerging;
import io.emend.core.merge.MergeCatalog;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.merge.recipe.RecipeException;
import io.emend.core.merge.recipe.RecipeParser;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A merge request: a mergekit recipe (YAML or JSON) whose models are registry references, plus a top-level
 * {@code output: {model, alias?}} saying where the result goes.
 *
 * <p>{@code output} is not a mergekit key, so it is cut out of the text before core's {@link RecipeParser} reads the
 * rest; the cut keeps every other line where it was (YAML: its lines are blanked; JSON: its characters), so the
 * parser's line numbers still point into what the user sent.
 *
 * @param recipe the parsed recipe; its model references are as written
 * @param model  the output model's name
 * @param alias  the alias to move to the result, or null
 */
public record MergeRequest(MergeRecipe recipe, String model, String alias) {

    /** The registry's name rule, checked here so a bad name fails at submission, not after the merge. */
    private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
    private static final String NAME_RULE = "lower-case letters, digits, '.', '_' or '-', starting with a letter or"
            + " digit, at most 64 characters";
    private static final JsonFactory YAML = new YAMLFactory();
    private static final JsonFactory JSON = new JsonFactory();
    private static final ObjectMapper TREES = new ObjectMapper();
    /** The name the recipe goes by in messages: {@code request:3: ...}. */
    static final String SOURCE = "request";

    /** Every model reference of the recipe, base first, each once. */
    public Set<String> references() {
        Set<String> refs = new LinkedHashSet<>();
        recipe.baseModel().ifPresent(refs::add);
        recipe.slices().forEach(s -> s.sources().forEach(src -> refs.add(src.model())));
        return refs;
    }

    /**
     * Reads a request body.
     *
     * @throws RecipeException  for malformed text, unknown keys, methods or parameters (with the line)
     * @throws InvalidRequest   for a missing or malformed {@code output}
     */
    public static MergeRequest parse(String body, boolean json) {
        Cut cut = cutOutput(body == null ? "" : body, json);
        MergeRecipe recipe = new RecipeParser(MergeCatalog.STANDARD).parse(SOURCE, cut.recipe(), json);
        if (recipe.method() instanceof AdaMerging) {
            // its text would be a path on the merger's host, which a REST caller must not name
            throw new InvalidRequest("merge_method", "merge_method adamerging runs locally (./emend merge); the"
                    + " service takes no text files");
        }
        if (cut.output() == null) {
            throw new InvalidRequest("output", "output is required: where the merged model goes, as"
                    + " {model: NAME, alias: ALIAS?}");
        }
        JsonNode output = cut.output();
        if (!output.isObject()) {
            throw new InvalidRequest("output", "output must be a map {model: NAME, alias: ALIAS?}");
        }
        for (var names = output.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!key.equals("model") && !key.equals("alias")) {
                throw new InvalidRequest("output." + key, "output." + key + " is not supported (valid: model, alias)");
            }
        }
        String model = name(output, "model", true);
        String alias = name(output, "alias", false);
        return new MergeRequest(recipe, model, alias);
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

    /** The recipe text with {@code output} cut out, and the {@code output} value (null when absent). */
    record Cut(String recipe, JsonNode output) {
    }

    static Cut cutOutput(String body, boolean json) {
        try (JsonParser p = (json ? JSON : YAML).createParser(body)) {
            p.setCodec(TREES);
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return new Cut(body, null);
            }
            int previousKeyLine = -1;
            JsonNode output = null;
            long outStart = -1;
            long outEnd = -1;
            int outLine = -1;
            int nextKeyLine = -1;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                int line = p.currentTokenLocation().getLineNr();
                if (output != null && nextKeyLine < 0) {
                    nextKeyLine = line;
                }
                if (p.currentName().equals("output") && output == null) {
                    if (!json && line == previousKeyLine) {
                        throw new InvalidRequest("output", "put output: on a line of its own (block style), so the"
                                + " rest of the recipe keeps its line numbers");
                    }
                    outStart = p.currentTokenLocation().getCharOffset();
                    outLine = line;
                    p.nextToken();
                    output = p.readValueAsTree();
                    if (output == null) {
                        output = TREES.nullNode();
                    }
                    outEnd = p.currentLocation().getCharOffset();
                } else {
                    p.nextToken();
                    p.skipChildren();
                }
                previousKeyLine = line;
            }
            if (output == null) {
                return new Cut(body, null);
            }
            if (!json && nextKeyLine == outLine) {
                throw new InvalidRequest("output", "put output: on a line of its own (block style), so the"
                        + " rest of the recipe keeps its line numbers");
            }
            String recipe = json ? blankJsonMember(body, (int) outStart, (int) outEnd)
                    : blankLines(body, outLine, nextKeyLine);
            return new Cut(recipe, output);
        } catch (JsonProcessingException e) {
            // malformed text: the recipe parser reads it again and reports the error with its line
            return new Cut(body, null);
        } catch (IOException e) {
            throw new IllegalStateException("reading a string cannot fail", e);
        }
    }

    /** Blanks lines {@code [from, to)} (1-based; {@code to < 0}: to the end), keeping the line breaks. */
    private static String blankLines(String text, int from, int to) {
        StringBuilder out = new StringBuilder(text.length());
        int line = 1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
                out.append(c);
            } else if (line >= from && (to < 0 || line < to) && c != '\r') {
                continue;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Blanks a JSON member {@code [start, end)} and one comma beside it, keeping line breaks. */
    private static String blankJsonMember(String text, int start, int end) {
        char[] chars = text.toCharArray();
        blank(chars, start, end);
        int after = end;
        while (after < chars.length && Character.isWhitespace(chars[after])) {
            after++;
        }
        if (after < chars.length && chars[after] == ',') {
            chars[after] = ' ';
        } else {
            int before = start - 1;
            while (before >= 0 && Character.isWhitespace(chars[before])) {
                before--;
            }
            if (before >= 0 && chars[before] == ',') {
                chars[before] = ' ';
            }
        }
        return new String(chars);
    }

    private static void blank(char[] chars, int from, int to) {
        for (int i = from; i < to; i++) {
            if (chars[i] != '\n' && chars[i] != '\r') {
                chars[i] = ' ';
            }
        }
    }
}
