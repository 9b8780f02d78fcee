package io.emend.trainer.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.emend.contracts.store.ObjectKeys;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.Method;
import io.emend.trainer.gate.GateThresholds;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads and checks fine-tune requests: strict JSON (unknown fields are errors naming the valid ones), every value in
 * range, defaults filled in, and the translation to core's {@link FineTuneConfig}. Everything here is checkable
 * without the model or the data; what needs them (target modules, JSONL lines, sizes) is checked at
 * {@code validating_files}.
 */
public final class TrainingRequests {

    /** The registry's name rule. */
    static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
    private static final Pattern REFERENCE = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}([@][a-z0-9][a-z0-9._-]{0,63}|:[1-9][0-9]{0,8})?$");
    private static final Pattern DIGEST = Pattern.compile("^sha256:[0-9a-f]{64}$");
    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    static final int DEFAULT_EPOCHS = 1;
    static final int DEFAULT_BATCH = 4;
    static final int DEFAULT_SEQ_LEN = 128;
    static final int DEFAULT_CHECKPOINT_EVERY = 10;
    static final double DEFAULT_HELD_OUT = 0.1;
    static final int DEFAULT_RANK = 8;
    static final double DEFAULT_ALPHA = 16;
    static final long DEFAULT_SEED = 42;
    static final int MAX_SEQ_LEN = 8192;

    private TrainingRequests() {
    }

    /**
     * Parses a request body.
     *
     * @throws InvalidRequest for malformed JSON, an unknown field or a value of the wrong type
     */
    public static FineTuneRequest parse(String body) {
        return parse(body, FineTuneRequest.class);
    }

    /**
     * Parses a JSON body strictly into {@code type}.
     *
     * @throws InvalidRequest for malformed JSON, an unknown field or a value of the wrong type
     */
    public static <T> T parse(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            throw new InvalidRequest("body", "the request body is empty; send JSON");
        }
        try {
            return STRICT.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            String valid = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream().map(String::valueOf)
                    .sorted().collect(Collectors.joining(", "));
            throw new InvalidRequest(path(e), "unknown field '" + e.getPropertyName() + "' (valid: " + valid + ")");
        } catch (JsonMappingException e) {
            throw new InvalidRequest(path(e), "wrong type for '" + path(e) + "': " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw new InvalidRequest("body", "not valid JSON at line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage());
        }
    }

    private static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                out.append(out.isEmpty() ? "" : ".").append(r.getFieldName());
            } else {
                out.append('[').append(r.getIndex()).append(']');
            }
        }
        return out.isEmpty() ? "body" : out.toString();
    }

    /**
     * Checks every field and fills in the defaults: method {@code lora}, 1 epoch, batch 4, learning-rate multiplier 1,
     * sequence length 128, a checkpoint every 10 steps, 10% held out, rank 8, alpha 16, dropout 0, the family's default
     * target modules, seed 42, no anti-forgetting, the gate's defaults; output model: {@code parentModel}.
     *
     * @param parentModel the name of the model the reference resolved to
     * @param maxSteps    {@code emend.trainer.limits.max-steps}
     * @throws InvalidRequest naming the first field at fault
     */
    public static FineTuneRequest normalize(FineTuneRequest r, String parentModel, int maxSteps) {
        requireReference(r.model());
        List<String> training = new ArrayList<>();
        if (r.trainingFile() != null && r.trainingFiles() != null) {
            throw new InvalidRequest("training_file", "give training_file or training_files, not both");
        }
        if (r.trainingFile() != null) {
            training.add(requireFile("training_file", r.trainingFile()));
        } else if (r.trainingFiles() != null && !r.trainingFiles().isEmpty()) {
            for (int i = 0; i < r.trainingFiles().size(); i++) {
                training.add(requireFile("training_files[" + i + "]", r.trainingFiles().get(i)));
            }
        } else {
            throw new InvalidRequest("training_file", "training_file is required: an object-store key of a JSONL file"
                    + " or a registry blob digest (sha256:<hex>)");
        }
        String validation = r.validationFile() == null ? null : requireFile("validation_file", r.validationFile());

        Method method;
        try {
            method = Method.parse(r.method() == null ? "lora" : r.method());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequest("method", e.getMessage());
        }

        FineTuneRequest.Hyperparameters h = r.hyperparameters() == null
                ? new FineTuneRequest.Hyperparameters(null, null, null, null, null, null, null, null, null)
                : r.hyperparameters();
        int epochs = atLeast("hyperparameters.n_epochs", h.nEpochs(), DEFAULT_EPOCHS, 1);
        int batch = atLeast("hyperparameters.batch_size", h.batchSize(), DEFAULT_BATCH, 1);
        double multiplier = positive("hyperparameters.learning_rate_multiplier", h.learningRateMultiplier(), 1.0);
        int steps = atLeast("hyperparameters.steps", h.steps(), 0, 0);
        if (steps > maxSteps) {
            throw new InvalidRequest("hyperparameters.steps", "hyperparameters.steps is " + steps + "; this trainer"
                    + " allows at most " + maxSteps + " (emend.trainer.limits.max-steps)");
        }
        int seqLen = atLeast("hyperparameters.seq_len", h.seqLen(), DEFAULT_SEQ_LEN, 1);
        if (seqLen > MAX_SEQ_LEN) {
            throw new InvalidRequest("hyperparameters.seq_len", "hyperparameters.seq_len must be at most " + MAX_SEQ_LEN);
        }
        int warmup = atLeast("hyperparameters.warmup_steps", h.warmupSteps(), 0, 0);
        int accumulation = atLeast("hyperparameters.gradient_accumulation", h.gradientAccumulation(), 1, 1);
        int checkpointEvery = atLeast("hyperparameters.checkpoint_every", h.checkpointEvery(), DEFAULT_CHECKPOINT_EVERY, 1);
        double heldOut = h.heldOutFraction() == null ? DEFAULT_HELD_OUT : h.heldOutFraction();
        if (!(heldOut >= 0 && heldOut < 1)) {
            throw new InvalidRequest("hyperparameters.held_out_fraction",
                    "hyperparameters.held_out_fraction must be in [0, 1), got " + heldOut);
        }

        FineTuneRequest.Lora l = r.lora() == null ? new FineTuneRequest.Lora(null, null, null, null) : r.lora();
        int rank = atLeast("lora.rank", l.rank(), DEFAULT_RANK, 1);
        double alpha = positive("lora.alpha", l.alpha(), DEFAULT_ALPHA);
        double dropout = l.dropout() == null ? 0 : l.dropout();
        if (!(dropout >= 0 && dropout < 1)) {
            throw new InvalidRequest("lora.dropout", "lora.dropout must be in [0, 1), got " + l.dropout());
        }
        if (dropout > 0 && method != Method.LORA) {
            throw new InvalidRequest("lora.dropout", "lora.dropout applies to method lora only, not to "
                    + method.name().toLowerCase(Locale.ROOT));
        }
        List<String> targets = l.targetModules() == null ? List.of() : List.copyOf(l.targetModules());
        for (int i = 0; i < targets.size(); i++) {
            if (targets.get(i) == null || !targets.get(i).matches("[A-Za-z0-9_]{1,64}")) {
                throw new InvalidRequest("lora.target_modules[" + i + "]", "lora.target_modules[" + i + "] must be a"
                        + " module name such as q_proj, got '" + targets.get(i) + "'");
            }
        }

        FineTuneRequest.Forgetting f = r.forgetting() == null
                ? new FineTuneRequest.Forgetting(null, null, null, null, null) : r.forgetting();
        double replay = f.replayFraction() == null ? 0 : f.replayFraction();
        if (!(replay >= 0 && replay < 1)) {
            throw new InvalidRequest("forgetting.replay_fraction", "forgetting.replay_fraction must be in [0, 1), got "
                    + replay);
        }
        List<String> replayFiles = new ArrayList<>();
        if (f.replayFiles() != null) {
            for (int i = 0; i < f.replayFiles().size(); i++) {
                replayFiles.add(requireFile("forgetting.replay_files[" + i + "]", f.replayFiles().get(i)));
            }
        }
        double l2sp = atLeastZero("forgetting.l2sp", f.l2sp());
        double orthogonality = atLeastZero("forgetting.orthogonality", f.orthogonality());
        if (orthogonality > 0 && method == Method.FULL) {
            throw new InvalidRequest("forgetting.orthogonality", "O-LoRA (forgetting.orthogonality) needs method lora"
                    + " or dora");
        }

        GateThresholds gate = (r.gate() == null ? GateThresholds.defaults() : r.gate()).withDefaults();
        if (!(gate.maxHeldOutRatio() > 0) || !Double.isFinite(gate.maxHeldOutRatio())) {
            throw new InvalidRequest("gate.max_held_out_ratio", "gate.max_held_out_ratio must be positive");
        }
        if (!(gate.maxRetentionIncrease() >= 0) || !Double.isFinite(gate.maxRetentionIncrease())) {
            throw new InvalidRequest("gate.max_retention_increase", "gate.max_retention_increase must be non-negative");
        }
        if (gate.maxNegativeFlips() < 0) {
            throw new InvalidRequest("gate.max_negative_flips", "gate.max_negative_flips must be non-negative");
        }
        if (gate.probeFile() != null) {
            requireFile("gate.probe_file", gate.probeFile());
        }
        if (gate.retentionFile() != null) {
            requireFile("gate.retention_file", gate.retentionFile());
        }

        String outputModel = r.output() == null || r.output().model() == null ? parentModel : r.output().model();
        requireName("output.model", outputModel);
        String alias = r.output() == null ? null : r.output().alias();
        if (alias != null) {
            requireName("output.alias", alias);
        }
        boolean single = r.trainingFile() != null;
        FineTuneRequest normalized = new FineTuneRequest(r.model(), single ? training.getFirst() : null,
                single ? null : training, validation, r.seed() == null ? DEFAULT_SEED : r.seed(),
                new FineTuneRequest.Hyperparameters(epochs, batch, multiplier, steps, seqLen, warmup, accumulation,
                        checkpointEvery, heldOut),
                method.name().toLowerCase(Locale.ROOT), new FineTuneRequest.Lora(rank, alpha, dropout, targets),
                new FineTuneRequest.Forgetting(replay, replayFiles, l2sp, f.hft() != null && f.hft(), orthogonality),
                gate, new FineTuneRequest.Output(outputModel, alias));
        config(normalized);
        return normalized;
    }

    /** The training files of a normalized request. */
    public static List<String> trainingFiles(FineTuneRequest r) {
        return r.trainingFile() != null ? List.of(r.trainingFile()) : r.trainingFiles();
    }

    /**
     * Core's configuration for a normalized request.
     *
     * @throws InvalidRequest when core rejects a combination of values
     */
    public static FineTuneConfig config(FineTuneRequest r) {
        Method method = Method.parse(r.method());
        FineTuneRequest.Hyperparameters h = r.hyperparameters();
        double baseRate = method == Method.FULL ? 5e-5 : 2e-4;
        try {
            return new FineTuneConfig(method, r.lora().rank(), r.lora().alpha(), r.lora().targetModules(),
                    baseRate * h.learningRateMultiplier(), 0.0, h.warmupSteps(), h.steps(), h.nEpochs(), h.batchSize(),
                    h.gradientAccumulation(), h.seqLen(), 1.0, r.seed(),
                    r.validationFile() != null ? 0 : h.heldOutFraction(), h.checkpointEvery(),
                    new FineTuneConfig.Forgetting(r.forgetting().l2sp(), r.forgetting().replayFraction(),
                            r.forgetting().hft(), r.forgetting().orthogonality()), r.lora().dropout());
        } catch (IllegalArgumentException e) {
            throw new InvalidRequest("hyperparameters", e.getMessage());
        }
    }

    /** A file reference: {@code sha256:<64 hex>} or an object-store key. */
    static String requireFile(String field, String ref) {
        if (ref == null || ref.isBlank()) {
            throw new InvalidRequest(field, field + " is empty");
        }
        if (ref.startsWith("sha256:")) {
            if (!DIGEST.matcher(ref).matches()) {
                throw new InvalidRequest(field, field + " '" + ref + "' is not a digest: sha256: and 64 lower-case hex"
                        + " digits");
            }
            return ref;
        }
        try {
            return ObjectKeys.validate(ref);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequest(field, field + ": " + e.getMessage());
        }
    }

    public static void requireName(String field, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new InvalidRequest(field, field + " '" + value + "' is not a valid name (lower-case letters, digits,"
                    + " '.', '_' or '-', starting with a letter or digit, at most 64 characters)");
        }
    }

    static void requireReference(String ref) {
        if (ref == null) {
            throw new InvalidRequest("model", "model is required: a registry reference (name, name@alias or name:N)");
        }
        if (!REFERENCE.matcher(ref).matches()) {
            throw new InvalidRequest("model", "model '" + ref + "' is not a registry reference (name, name@alias or"
                    + " name:N)");
        }
    }

    private static int atLeast(String field, Integer value, int fallback, int min) {
        int v = value == null ? fallback : value;
        if (v < min) {
            throw new InvalidRequest(field, field + " must be at least " + min + ", got " + v);
        }
        return v;
    }

    private static double positive(String field, Double value, double fallback) {
        double v = value == null ? fallback : value;
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new InvalidRequest(field, field + " must be a positive number, got " + v);
        }
        return v;
    }

    private static double atLeastZero(String field, Double value) {
        double v = value == null ? 0 : value;
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new InvalidRequest(field, field + " must be a non-negative number, got " + v);
        }
        return v;
    }
}
