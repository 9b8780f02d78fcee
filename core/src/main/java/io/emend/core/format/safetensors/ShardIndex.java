package io.emend.core.format.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A sharded checkpoint's {@code model.safetensors.index.json}: which shard file holds each tensor
 * ({@code weight_map}) and the optional {@code metadata.total_size} (bytes of tensor data over all shards).
 *
 * @param weightMap tensor name to shard file name, in the index's order
 * @param totalSize {@code metadata.total_size} when the index gives it
 */
public record ShardIndex(Map<String, String> weightMap, OptionalLong totalSize) {

    /** The file name Hugging Face uses for the index of {@code model-*.safetensors} shards. */
    public static final String FILE_NAME = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    public ShardIndex {
        weightMap = Collections.unmodifiableMap(new LinkedHashMap<>(weightMap));
    }

    /** Shard file names, each once, in first-use order. */
    public List<String> shards() {
        return new ArrayList<>(new LinkedHashSet<>(weightMap.values()));
    }

    /** Reads and validates an index file; shard names must be plain file names (no directories, no "..") */
    public static ShardIndex read(Path indexFile) throws IOException {
        return parse(indexFile.toString(), Files.readString(indexFile));
    }

    /** Parses index JSON; {@code source} names the text in error messages. */
    public static ShardIndex parse(String source, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(source, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedFileException(source, "must be a JSON object");
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new MalformedFileException(source, "weight_map is missing or not an object");
        }
        if (map.isEmpty()) {
            throw new MalformedFileException(source, "weight_map is empty");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> kv = it.next();
            if (!kv.getValue().isTextual()) {
                throw new MalformedFileException(source, "weight_map." + kv.getKey() + " must be a file name string");
            }
            String shard = kv.getValue().textValue();
            if (!isPlainFileName(shard)) {
                throw new MalformedFileException(source, "weight_map." + kv.getKey() + " = '" + shard
                        + "' is not a plain file name in the model directory");
            }
            weightMap.put(kv.getKey(), shard);
        }
        OptionalLong total = OptionalLong.empty();
        JsonNode metadata = root.get("metadata");
        if (metadata != null && metadata.isObject() && metadata.has("total_size")) {
            JsonNode t = metadata.get("total_size");
            if (!t.isIntegralNumber() || t.longValue() < 0) {
                throw new MalformedFileException(source, "metadata.total_size must be a non-negative integer");
            }
            total = OptionalLong.of(t.longValue());
        }
        return new ShardIndex(weightMap, total);
    }

    /** The index as JSON in Hugging Face's layout. */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode metadata = root.putObject("metadata");
        totalSize.ifPresent(t -> metadata.put("total_size", t));
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serializing a tree of strings cannot fail", e);
        }
    }

    static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..")
                && name.indexOf('/') < 0 && name.indexOf('\\') < 0 && name.indexOf('\0') < 0;
    }
}
