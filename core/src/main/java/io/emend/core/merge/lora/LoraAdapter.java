package io.emend.core.merge.lora;

import io.emend.core.delta.LoraDelta;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.PeftAdapterConfig;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PEFT LoRA adapter directory: {@code adapter_config.json} and {@code adapter_model.safetensors} holding
 * {@code base_model.model.<module>.lora_A.weight} [r, in] and {@code ...lora_B.weight} [out, r] per module.
 * Adapters are small (a few MB), so their factors are read onto the heap.
 */
public record LoraAdapter(PeftAdapterConfig config, List<LoraDelta> deltas) {

    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    static final String PREFIX = "base_model.model.";
    static final String A_SUFFIX = ".lora_A.weight";
    static final String B_SUFFIX = ".lora_B.weight";

    public LoraAdapter {
        deltas = List.copyOf(deltas);
    }

    /** Reads an adapter directory; every lora_A must have its lora_B with matching rank. */
    public static LoraAdapter read(Path dir) throws IOException {
        PeftAdapterConfig config = PeftAdapterConfig.read(dir.resolve(PeftAdapterConfig.FILE_NAME));
        Path file = dir.resolve(WEIGHTS_FILE);
        List<LoraDelta> deltas = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo t : f.tensors()) {
                if (!t.name().endsWith(A_SUFFIX)) {
                    if (!t.name().endsWith(B_SUFFIX)) {
                        throw new MalformedFileException(file, "tensor '" + t.name()
                                + "' is neither lora_A nor lora_B (only plain LoRA adapters are supported)");
                    }
                    continue;
                }
                String stem = t.name().substring(0, t.name().length() - A_SUFFIX.length());
                String bName = stem + B_SUFFIX;
                TensorInfo b = f.find(bName).orElseThrow(() -> new MalformedFileException(file,
                        "tensor '" + t.name() + "' has no matching '" + bName + "'"));
                long[] as = t.shape();
                long[] bs = b.shape();
                if (as.length != 2 || bs.length != 2 || as[0] != config.r() || bs[1] != config.r()) {
                    throw new MalformedFileException(file, "module '" + stem + "': lora_A " + java.util.Arrays.toString(as)
                            + " and lora_B " + java.util.Arrays.toString(bs) + " do not have rank r = " + config.r());
                }
                String module = stem.startsWith(PREFIX) ? stem.substring(PREFIX.length()) : stem;
                deltas.add(new LoraDelta(module, config.r(), (int) as[1], (int) bs[0], f.floats(t.name()),
                        f.floats(bName), config.scale()));
            }
        }
        if (deltas.isEmpty()) {
            throw new MalformedFileException(file, "holds no lora_A/lora_B pairs");
        }
        return new LoraAdapter(config, deltas);
    }

    /** Writes the adapter in PEFT's layout (F32 factors) into a new directory. */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<TensorInfo> infos = new ArrayList<>();
        for (LoraDelta d : deltas) {
            infos.add(new TensorInfo(PREFIX + d.module() + A_SUFFIX, DType.F32, new long[] {d.rank(), d.in()}));
            infos.add(new TensorInfo(PREFIX + d.module() + B_SUFFIX, DType.F32, new long[] {d.out(), d.rank()}));
        }
        try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve(WEIGHTS_FILE), infos, Map.of("format", "pt"))) {
            for (LoraDelta d : deltas) {
                w.write(PREFIX + d.module() + A_SUFFIX, d.a());
                w.write(PREFIX + d.module() + B_SUFFIX, d.b());
            }
            w.commit();
        }
        Files.writeString(dir.resolve(PeftAdapterConfig.FILE_NAME), config.toJson());
    }

    /** Deltas by module name. */
    public Map<String, LoraDelta> byModule() {
        Map<String, LoraDelta> m = new LinkedHashMap<>();
        deltas.forEach(d -> m.put(d.module(), d));
        return m;
    }
}
