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
import io.emend.core.merge.adamerging.AdaMergingSettings;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.merge.recipe.RecipeException;
import io.emend.core.merge.recipe.RecipeParser;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * A merge request: a mergekit recipe (YAML or JSON) whose models are registry references, plus a top-level
 * {@code output: {model, alias?}} saying where the result goes.
 *
 * <p>{@code output} is not a mergekit key, so it is cut out of the text before core's {@link RecipeParser} reads the
 * rest; the cut keeps every other line where it was (YAML: its lines are blanked; JSON: its characters), so the
 * parser's line numbers still point into what the user sent.
 *
 * <p>{@code merge_method: adamerging} names its unlabeled text in {@code parameters.text} the way
 * {@link io.emend.merger.text.TextReference} reads it (registry blob, object-store key or inline data URL), never as
 * a path on the merger's host.
 *
 * @param recipe the parsed recipe; its model references are as written
 * @param model  the output model's name
 * @param alias  the alias to move to the result, or null
 */
public record MergeRequest(MergeRecipe recipe, String model, String alias) {

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
            checkAdaMerging(recipe);
        }
        Output output = Output.of(cut.output());
        return new MergeRequest(recipe, output.model(), output.alias());
    }

    /** AdaMerging's text, when the recipe is {@code adamerging}: a reference for {@link io.emend.merger.text.TextFiles}. */
    public Optional<String> text() {
        if (recipe.method() instanceof AdaMerging) {
            return Optional.of(AdaMergingSettings.of(recipe).text());
        }
        return Optional.empty();
    }

    /** What core would find wrong only once the inputs are fetched, said at submission instead. */
    private static void checkAdaMerging(MergeRecipe recipe) {
        try {
            AdaMergingSettings.of(recipe);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequest("parameters", e.getMessage());
        }
        if (recipe.sliced()) {
            throw new InvalidRequest("slices", "adamerging learns coefficients for whole models; give models, not"
                    + " slices");
        }
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
