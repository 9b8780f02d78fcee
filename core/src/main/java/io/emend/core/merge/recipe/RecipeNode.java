package io.emend.core.merge.recipe;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A recipe document as a tree whose every node remembers its line, so that each rejected key or value can be
 * reported where the user wrote it. Jackson's {@code JsonNode} drops locations, so the tree is built from the
 * token stream of the same parser for YAML and JSON.
 */
sealed interface RecipeNode {

    /** 1-based line where the node starts. */
    int line();

    /** What the node is, for messages: "a map", "a list", "a number", ... */
    String kind();

    /** A key and its value; {@code line} is the key's line. */
    record Field(String key, int line, RecipeNode value) {
    }

    record MapNode(Map<String, Field> fields, int line) implements RecipeNode {
        public MapNode {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        @Override
        public String kind() {
            return "a map";
        }
    }

    record ListNode(List<RecipeNode> items, int line) implements RecipeNode {
        public ListNode {
            items = List.copyOf(items);
        }

        @Override
        public String kind() {
            return "a list";
        }
    }

    /** A string, a number (Double or Long), a Boolean, or null. */
    record ScalarNode(Object value, int line) implements RecipeNode {
        @Override
        public String kind() {
            return switch (value) {
                case null -> "null";
                case String s -> "a string";
                case Boolean b -> "a boolean";
                default -> "a number";
            };
        }
    }

    /** Reads one value starting at the parser's current token. */
    static RecipeNode read(JsonParser p, String source) throws IOException {
        JsonToken token = p.currentToken();
        int line = p.currentTokenLocation().getLineNr();
        if (token == null) {
            throw new RecipeException(source, Math.max(line, 1), "the recipe is empty");
        }
        return switch (token) {
            case START_OBJECT -> {
                Map<String, Field> fields = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    int keyLine = p.currentTokenLocation().getLineNr();
                    if (fields.containsKey(key)) {
                        throw new RecipeException(source, keyLine, "key '" + key + "' appears twice (first on line "
                                + fields.get(key).line() + ")");
                    }
                    p.nextToken();
                    fields.put(key, new Field(key, keyLine, read(p, source)));
                }
                yield new MapNode(fields, line);
            }
            case START_ARRAY -> {
                List<RecipeNode> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    items.add(read(p, source));
                }
                yield new ListNode(items, line);
            }
            case VALUE_STRING -> new ScalarNode(p.getText(), line);
            case VALUE_NUMBER_INT -> new ScalarNode(p.getLongValue(), line);
            case VALUE_NUMBER_FLOAT -> new ScalarNode(p.getDoubleValue(), line);
            case VALUE_TRUE -> new ScalarNode(Boolean.TRUE, line);
            case VALUE_FALSE -> new ScalarNode(Boolean.FALSE, line);
            case VALUE_NULL -> new ScalarNode(null, line);
            default -> throw new RecipeException(source, line, "unexpected " + token);
        };
    }
}
