package io.emend.core.delta;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.graph.Constant;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A LoRA or DoRA adapter as a value: per adapted module its factors, in PEFT's layout, read from and written to a
 * PEFT adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors}). This is the one reader and
 * writer of that layout; {@link io.emend.core.merge.lora.LoraAdapter} narrows it to plain LoRA as
 * {@link LoraDelta}s for merging and serving.
 *
 * <p>PEFT's math for a module with weight {@code W} ({@code [out, in]}) and input {@code x}:
 * LoRA {@code y = x·Wᵀ + s·x·Aᵀ·Bᵀ}; DoRA {@code W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖} with the norm taken per output
 * row ({@code dim=1} of {@code [out, in]}), so {@code m} has one entry per output. Here {@code s} is
 * {@link PeftAdapterConfig#scale()}.
 *
 * <p>Keys are PEFT's: {@code base_model.model.<module>.lora_A.weight} {@code [r, in]},
 * {@code base_model.model.<module>.lora_B.weight} {@code [out, r]}, and for DoRA
 * {@code base_model.model.<module>.lora_magnitude_vector} {@code [out]}, where {@code <module>} is the weight's name
 * without {@code .weight} ({@code model.layers.0.self_attn.q_proj}, {@code transformer.h.0.attn.c_attn}).
 *
 * @param config  the adapter's configuration (rank, alpha, targets, scaling rule)
 * @param useDora whether the adapter is DoRA ({@code use_dora} in the file, {@link PeftAdapterConfig#useDora()})
 * @param modules module name to its factors, in file order
 */
public record LoraDeltas(PeftAdapterConfig config, boolean useDora, Map<String, Module> modules) {

    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";
    static final String A_SUFFIX = ".lora_A.weight";
    static final String B_SUFFIX = ".lora_B.weight";
    static final String MAGNITUDE_SUFFIX = ".lora_magnitude_vector";
    private static final ObjectMapper JSON = new ObjectMapper();

    public LoraDeltas {
        modules = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(modules));
        if (useDora != config.useDora()) {
            // the file written must say what the factors are, or reading it back fails
            throw new IllegalArgumentException("use_dora is " + useDora + " but the config says " + config.useDora());
        }
        for (Module m : modules.values()) {
            if (m.rank() != config.r()) {
                throw new IllegalArgumentException("module " + m.name() + " has rank " + m.rank() + ", the config says "
                        + config.r());
            }
            if (useDora != (m.magnitude() != null)) {
                throw new IllegalArgumentException("module " + m.name() + (useDora
                        ? " lacks the DoRA magnitude vector" : " has a magnitude vector but use_dora is false"));
            }
        }
    }

    /**
     * One adapted module's factors in PEFT's orientation.
     *
     * @param name      module name, the weight's name without {@code .weight}
     * @param in        input features
     * @param out       output features
     * @param a         [rank, in] lora_A
     * @param b         [out, rank] lora_B
     * @param magnitude [out] DoRA's m, or null for plain LoRA
     */
    public record Module(String name, int in, int out, float[] a, float[] b, float[] magnitude) {

        public Module {
            if (in <= 0 || out <= 0 || a.length == 0 || a.length % in != 0) {
                throw new IllegalArgumentException("module " + name + ": lora_A must be [r, " + in + "]");
            }
            int rank = a.length / in;
            if (b.length != out * rank) {
                throw new IllegalArgumentException("module " + name + ": lora_B must be [" + out + ", " + rank + "]");
            }
            if (magnitude != null && magnitude.length != out) {
                throw new IllegalArgumentException("module " + name + ": the magnitude vector must have " + out
                        + " entries");
            }
        }

        public int rank() {
            return a.length / in;
        }

        /** The weight this module adapts. */
        public String weightName() {
            return name + ".weight";
        }
    }

    /** Reads a PEFT adapter directory. */
    public static LoraDeltas read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not an adapter directory");
        }
        Path configFile = dir.resolve(PeftAdapterConfig.FILE_NAME);
        if (!Files.isRegularFile(configFile)) {
            throw new NoSuchFileException(configFile.toString(), null, "no " + PeftAdapterConfig.FILE_NAME
                    + " in the adapter directory");
        }
        PeftAdapterConfig config = PeftAdapterConfig.read(configFile);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no " + WEIGHTS_FILE + " in the adapter directory");
        }
        Map<String, Module> modules = new LinkedHashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (TensorInfo t : st.tensors()) {
                String key = t.name();
                if (!key.endsWith(A_SUFFIX)) {
                    if (!key.endsWith(B_SUFFIX) && !key.endsWith(MAGNITUDE_SUFFIX)) {
                        throw new MalformedFileException(file.toString(), "tensor " + key
                                + " is not a LoRA factor (lora_A, lora_B, lora_magnitude_vector)");
                    }
                    continue;
                }
                String stem = key.substring(0, key.length() - A_SUFFIX.length());
                String name = stem.startsWith(PREFIX) ? stem.substring(PREFIX.length()) : stem;
                TensorInfo b = st.find(stem + B_SUFFIX).orElseThrow(() -> new MalformedFileException(file.toString(),
                        "tensor " + key + " has no matching " + stem + B_SUFFIX));
                long[] as = t.shape();
                long[] bs = b.shape();
                if (as.length != 2 || bs.length != 2 || as[0] != bs[1]) {
                    throw new MalformedFileException(file.toString(), "module " + name + ": lora_A "
                            + java.util.Arrays.toString(as) + " and lora_B " + java.util.Arrays.toString(bs)
                            + " are not [r, in] and [out, r]");
                }
                float[] magnitude = null;
                Optional<TensorInfo> mag = st.find(stem + MAGNITUDE_SUFFIX);
                if (mag.isPresent()) {
                    magnitude = st.floats(mag.get().name());
                }
                try {
                    modules.put(name, new Module(name, (int) as[1], (int) bs[0], st.floats(key), st.floats(b.name()),
                            magnitude));
                } catch (IllegalArgumentException e) {
                    throw new MalformedFileException(file.toString(), e.getMessage());
                }
            }
        }
        if (modules.isEmpty()) {
            throw new MalformedFileException(file.toString(), "has no lora_A/lora_B tensors");
        }
        try {
            return new LoraDeltas(config, config.useDora(), modules);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(dir.toString(), e.getMessage());
        }
    }

    /**
     * Writes the adapter into {@code dir} (created if needed): the weights first, then the config, each through a
     * temporary file and an atomic rename.
     */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<TensorInfo> tensors = new ArrayList<>();
        for (Module m : modules.values()) {
            tensors.add(new TensorInfo(PREFIX + m.name() + A_SUFFIX, DType.F32, new long[] {m.rank(), m.in()}));
            tensors.add(new TensorInfo(PREFIX + m.name() + B_SUFFIX, DType.F32, new long[] {m.out(), m.rank()}));
            if (m.magnitude() != null) {
                tensors.add(new TensorInfo(PREFIX + m.name() + MAGNITUDE_SUFFIX, DType.F32, new long[] {m.out()}));
            }
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve(WEIGHTS_FILE), tensors,
                Map.of("format", "pt"))) {
            for (Module m : modules.values()) {
                w.write(PREFIX + m.name() + A_SUFFIX, m.a());
                w.write(PREFIX + m.name() + B_SUFFIX, m.b());
                if (m.magnitude() != null) {
                    w.write(PREFIX + m.name() + MAGNITUDE_SUFFIX, m.magnitude());
                }
            }
            w.commit();
        }
        Path temp = Files.createTempFile(dir, "." + PeftAdapterConfig.FILE_NAME + ".", ".tmp");
        try {
            Files.writeString(temp, config.toJson());
            Files.move(temp, dir.resolve(PeftAdapterConfig.FILE_NAME), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * The {@code adapter_config.json} PEFT writes for a LoRA or DoRA adapter trained by Emend.
     *
     * @param dropout the LoRA dropout it was trained with ({@code lora_dropout}: PEFT ignores it at inference and
     *                applies it if training continues)
     * @param conv1d  the targets are GPT-2 Conv1D layers (PEFT's {@code fan_in_fan_out})
     */
    public static PeftAdapterConfig peftConfig(String baseModel, int rank, double alpha, double dropout,
                                               List<String> targets, boolean dora, boolean conv1d) {
        ObjectNode o = JSON.createObjectNode();
        o.put("peft_type", "LORA");
        o.put("task_type", "CAUSAL_LM");
        o.put("base_model_name_or_path", baseModel);
        o.put("r", rank);
        o.put("lora_alpha", alpha);
        o.put("lora_dropout", dropout);
        targets.forEach(o.putArray("target_modules")::add);
        o.put("use_dora", dora);
        o.put("use_rslora", false);
        o.put("fan_in_fan_out", conv1d);
        o.put("bias", "none");
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        o.putNull("modules_to_save");
        return new PeftAdapterConfig(rank, alpha, targets, false, Optional.of(baseModel), o);
    }

    /**
     * The adapter as deltas for the graph's forward, their arrays created in {@code manager}. LoRA becomes a
     * {@link WeightDelta.LowRank} ({@code a = Aᵀ}, {@code b = Bᵀ}); DoRA a {@link WeightDelta.Dense} equal to
     * {@code W' - W} (see {@link #doraDelta}).
     *
     * @throws IllegalArgumentException when a module does not name a projection of the model or its shape differs
     */
    public Map<String, List<WeightDelta>> weightDeltas(NDManager manager, Transformer model) {
        Map<String, List<WeightDelta>> out = new LinkedHashMap<>();
        for (Module m : modules.values()) {
            String weight = m.weightName();
            if (!model.parameterNames().contains(weight) || !model.isProjection(weight)) {
                throw new IllegalArgumentException("adapter module " + m.name() + " is not a projection of the model");
            }
            Shape shape = model.parameter(weight).getShape();
            if (shape.get(0) != m.in() || shape.get(1) != m.out()) {
                throw new IllegalArgumentException("adapter module " + m.name() + " is [in " + m.in() + ", out "
                        + m.out() + "], the model's weight is " + shape + " (graph orientation [in, out])");
            }
            NDArray a = manager.create(m.a(), new Shape(m.rank(), m.in())).transpose().duplicate();
            NDArray b = manager.create(m.b(), new Shape(m.out(), m.rank())).transpose().duplicate();
            WeightDelta delta = m.magnitude() == null
                    ? new WeightDelta.LowRank(a, b, config.scale())
                    : new WeightDelta.Dense(doraDelta(model.parameter(weight), a, b,
                    manager.create(m.magnitude()), config.scale()));
            out.put(weight, List.of(delta));
        }
        return out;
    }

    /**
     * DoRA's change to a weight in the graph's orientation ({@code w} is {@code [in, out]}):
     * {@code (w + s·a·b) ⊙ (m / ‖w + s·a·b‖) - w}, the norm over the input axis (axis 0), one per output. The result
     * belongs to {@code a}'s manager; w, b and m are only ever second operands. Differentiable in a, b and m.
     * Unlike PEFT's training, the norm is not detached, so gradients are those of the function as written.
     *
     * @param a [in, r]
     * @param b [r, out]
     * @param m [out]
     */
    public static NDArray doraDelta(NDArray w, NDArray a, NDArray b, NDArray m, double scale) {
        // scalars through Constant: DJL's mul(number) hands autograd a buffer it frees right after the op
        NDArray ab = a.matMul(b);
        NDArray adapted = ab.mul(Constant.of(ab, scale)).add(w);
        NDArray ratio = adapted.square().sum(new int[] {0}).sqrt().pow(Constant.of(adapted, -1)).mul(m);
        return adapted.mul(ratio).sub(w);
    }
}
