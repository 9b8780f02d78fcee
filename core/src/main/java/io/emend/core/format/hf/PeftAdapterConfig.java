package io.emend.core.format.hf;

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
import java.util.List;
import java.util.Optional;

/**
 * A PEFT LoRA {@code adapter_config.json}: rank, alpha and target modules. The scale applied to {@code B·A} is
 * {@code lora_alpha / r}, or {@code lora_alpha / √r} with {@code use_rslora}. Options that change the math Emend
 * implements (per-module rank or alpha patterns) are rejected by name rather than ignored; {@code use_dora} is read
 * and left to the reader of the weights to accept or refuse.
 *
 * @param r             the rank
 * @param loraAlpha     alpha
 * @param targetModules module names (suffixes such as {@code q_proj}) the adapter targets
 * @param useRslora     rank-stabilized scaling
 * @param baseModel     {@code base_model_name_or_path}, when given
 * @param raw           the whole file, so an adapter written back keeps the fields Emend does not interpret
 */
public record PeftAdapterConfig(int r, double loraAlpha, List<String> targetModules, boolean useRslora,
                                Optional<String> baseModel, ObjectNode raw) {

    /** The file name PEFT uses. */
    public static final String FILE_NAME = "adapter_config.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    public PeftAdapterConfig {
        targetModules = List.copyOf(targetModules);
        raw = raw.deepCopy();
    }

    /** The factor applied to {@code B·A}. */
    public double scale() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /** {@code use_dora}: the adapter carries DoRA's magnitude vectors. */
    public boolean useDora() {
        return raw.path("use_dora").asBoolean(false);
    }

    public static PeftAdapterConfig read(Path file) throws IOException {
        return parse(file.toString(), Files.readString(file));
    }

    public static PeftAdapterConfig parse(String source, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(source, "not valid JSON: " + e.getOriginalMessage());
        }
        if (!(root instanceof ObjectNode obj)) {
            throw new MalformedFileException(source, "must be a JSON object");
        }
        JsonNode type = obj.get("peft_type");
        if (type != null && !type.asText().equals("LORA")) {
            throw new MalformedFileException(source, "peft_type " + type + " is not supported (LORA is)");
        }
        JsonNode r = obj.get("r");
        if (r == null || !r.isIntegralNumber() || r.intValue() <= 0) {
            throw new MalformedFileException(source, "r must be a positive integer");
        }
        JsonNode alpha = obj.get("lora_alpha");
        if (alpha == null || !alpha.isNumber() || !(alpha.doubleValue() > 0)) {
            throw new MalformedFileException(source, "lora_alpha must be a positive number");
        }
        for (String pattern : List.of("rank_pattern", "alpha_pattern")) {
            JsonNode p = obj.get(pattern);
            if (p != null && !p.isNull() && !p.isEmpty()) {
                throw new MalformedFileException(source, pattern + " is not supported (one r and lora_alpha for all modules)");
            }
        }
        List<String> targets = new ArrayList<>();
        JsonNode t = obj.get("target_modules");
        if (t == null || !t.isArray()) {
            throw new MalformedFileException(source, "target_modules must be a list of module names");
        }
        for (JsonNode n : t) {
            if (!n.isTextual()) {
                throw new MalformedFileException(source, "target_modules must hold strings, found " + n);
            }
            targets.add(n.textValue());
        }
        Optional<String> base = Optional.ofNullable(obj.get("base_model_name_or_path"))
                .filter(JsonNode::isTextual).map(JsonNode::textValue);
        return new PeftAdapterConfig(r.intValue(), alpha.doubleValue(), targets,
                obj.path("use_rslora").asBoolean(false), base, obj);
    }

    /** This config with another rank, alpha, targets and scaling rule (the other fields of the file kept). */
    public PeftAdapterConfig with(int newR, double newAlpha, List<String> newTargets, boolean rslora) {
        ObjectNode copy = raw.deepCopy();
        copy.put("use_rslora", rslora);
        copy.put("r", newR);
        copy.put("lora_alpha", newAlpha);
        copy.put("peft_type", "LORA");
        var arr = copy.putArray("target_modules");
        newTargets.forEach(arr::add);
        return new PeftAdapterConfig(newR, newAlpha, newTargets, rslora, baseModel, copy);
    }

    public String toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(raw);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serializing a JSON tree cannot fail", e);
        }
    }
}
