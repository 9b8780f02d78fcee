package io.emend.core.format.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.format.MalformedFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * PEFT's {@code adapter_config.json} for a LoRA (or DoRA) adapter, as a typed record. Untyped JSON stops here.
 *
 * <p>Only what changes the adapter's math is kept: rank, alpha, dropout, targets, DoRA, rsLoRA and fan-in-fan-out.
 * Fields PEFT writes that do not affect it (task type, revision, bias "none") are written with PEFT's values so that
 * PEFT loads the file unchanged. Options that would change the math and that Emend does not implement
 * ({@code rank_pattern}, {@code alpha_pattern}, {@code bias} other than "none") are rejected with the field named.
 *
 * @param baseModel     {@code base_model_name_or_path}: where the base model lives (a path or hub id), may be empty
 * @param rank          {@code r}
 * @param alpha         {@code lora_alpha}; the delta is scaled by {@code alpha / r} (or {@code alpha / √r} with rsLoRA)
 * @param dropout       {@code lora_dropout}, applied to the adapter's input while training
 * @param targetModules {@code target_modules}: module names (the last name component, e.g. {@code q_proj})
 * @param useDora       {@code use_dora}
 * @param useRsLora     {@code use_rslora}
 * @param fanInFanOut   {@code fan_in_fan_out}: true for GPT-2's Conv1D layers (informational for PEFT's loader)
 */
public record PeftAdapterConfig(String baseModel, int rank, double alpha, double dropout, List<String> targetModules,
                                boolean useDora, boolean useRsLora, boolean fanInFanOut) {

    public static final String FILE_NAME = "adapter_config.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public PeftAdapterConfig {
        if (rank <= 0) {
            throw new IllegalArgumentException("r must be positive, got " + rank);
        }
        if (!(alpha > 0) || !Double.isFinite(alpha)) {
            throw new IllegalArgumentException("lora_alpha must be positive, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + dropout);
        }
        if (targetModules.isEmpty()) {
            throw new IllegalArgumentException("target_modules must name at least one module");
        }
        targetModules = List.copyOf(targetModules);
        baseModel = baseModel == null ? "" : baseModel;
    }

    /** The factor the low-rank product is multiplied by: {@code alpha / r}, or {@code alpha / √r} with rsLoRA. */
    public double scale() {
        return useRsLora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** Reads {@code adapter_config.json} from an adapter directory. */
    public static PeftAdapterConfig read(Path adapterDir) throws IOException {
        Path file = adapterDir.resolve(FILE_NAME);
        return parse(file.toString(), Files.readString(file));
    }

    /** Parses the JSON text; {@code source} names it in errors. */
    public static PeftAdapterConfig parse(String source, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new MalformedFileException(source, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedFileException(source, "must be a JSON object");
        }
        String type = root.path("peft_type").asText("");
        if (!type.equals("LORA")) {
            throw new MalformedFileException(source, "peft_type must be \"LORA\", got \"" + type + "\"");
        }
        for (String unsupported : List.of("rank_pattern", "alpha_pattern")) {
            JsonNode n = root.path(unsupported);
            if (n.isObject() && !n.isEmpty()) {
                throw new MalformedFileException(source, unsupported + " (per-module ranks or alphas) is not supported");
            }
        }
        String bias = root.path("bias").asText("none");
        if (!bias.equals("none")) {
            throw new MalformedFileException(source, "bias must be \"none\", got \"" + bias + "\"");
        }
        JsonNode r = root.path("r");
        if (!r.isIntegralNumber()) {
            throw new MalformedFileException(source, "r must be an integer");
        }
        JsonNode alpha = root.path("lora_alpha");
        if (!alpha.isNumber()) {
            throw new MalformedFileException(source, "lora_alpha must be a number");
        }
        List<String> targets = new ArrayList<>();
        JsonNode t = root.path("target_modules");
        if (t.isTextual()) {
            targets.add(t.textValue());
        } else if (t.isArray()) {
            for (JsonNode n : t) {
                if (!n.isTextual()) {
                    throw new MalformedFileException(source, "target_modules must be strings");
                }
                targets.add(n.textValue());
            }
        } else {
            throw new MalformedFileException(source, "target_modules must be a list of module names");
        }
        try {
            return new PeftAdapterConfig(root.path("base_model_name_or_path").asText(""), r.intValue(),
                    alpha.doubleValue(), root.path("lora_dropout").asDouble(0), targets,
                    root.path("use_dora").asBoolean(false), root.path("use_rslora").asBoolean(false),
                    root.path("fan_in_fan_out").asBoolean(false));
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(source, e.getMessage());
        }
    }

    /** The JSON PEFT writes for this adapter. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        o.put("base_model_name_or_path", baseModel);
        o.put("r", rank);
        o.put("lora_alpha", alpha);
        o.put("lora_dropout", dropout);
        o.putArray("target_modules").addAll(targetModules.stream().map(o::textNode).toList());
        o.put("use_dora", useDora);
        o.put("use_rslora", useRsLora);
        o.put("fan_in_fan_out", fanInFanOut);
        o.put("bias", "none");
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        o.putNull("modules_to_save");
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serializing a tree of strings and numbers cannot fail", e);
        }
    }

    /** Writes {@code adapter_config.json} into {@code dir} through a temporary file and an atomic rename. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + FILE_NAME + ".", ".tmp");
        try {
            Files.writeString(temp, toJson());
            Files.move(temp, dir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
