package io.emend.core.merge.lora;

import io.emend.core.delta.LoraDelta;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.PeftAdapterConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A plain PEFT LoRA adapter as per-module {@link LoraDelta}s, each carrying its scale: the view that merging and
 * serving work on. The directory layout (file names, PEFT keys, shape checks) is {@link LoraDeltas}'s; this record
 * only narrows it to plain LoRA, since DoRA's magnitude rescales the adapted weight and is not a low-rank delta.
 */
public record LoraAdapter(PeftAdapterConfig config, List<LoraDelta> deltas) {

    public LoraAdapter {
        deltas = List.copyOf(deltas);
    }

    /** Reads an adapter directory through {@link LoraDeltas#read}; a DoRA adapter is refused. */
    public static LoraAdapter read(Path dir) throws IOException {
        LoraDeltas adapter = LoraDeltas.read(dir);
        if (adapter.useDora()) {
            throw new MalformedFileException(dir.resolve(PeftAdapterConfig.FILE_NAME),
                    "use_dora: true is not supported (DoRA rescales weight columns)");
        }
        double scale = adapter.config().scale();
        return new LoraAdapter(adapter.config(), adapter.modules().values().stream()
                .map(m -> new LoraDelta(m.name(), m.rank(), m.in(), m.out(), m.a(), m.b(), scale))
                .toList());
    }

    /**
     * Writes the adapter in PEFT's layout (F32 factors) through {@link LoraDeltas#write}. A reader applies the config's
     * {@code lora_alpha / r} to every module, so a delta whose own scale differs has the ratio folded into its B: the
     * file then gives the same {@code scale · B·A}. PEFT's {@code alpha_pattern} could state a per-module alpha
     * instead, but only PEFT honours it: {@link #read} refuses it, and a reader that takes the one {@code lora_alpha}
     * would apply the wrong scale without noticing. Folded, the file is plain LoRA, which any reader applies alike.
     */
    public void write(Path dir) throws IOException {
        Map<String, LoraDeltas.Module> modules = new LinkedHashMap<>();
        for (LoraDelta d : deltas) {
            modules.put(d.module(), new LoraDeltas.Module(d.module(), d.in(), d.out(), d.a(),
                    bAtScale(d, config.scale()), null));
        }
        new LoraDeltas(config, false, modules).write(dir);
    }

    /** {@code d}'s B rescaled so that {@code scale · B'·A = d.scale() · B·A}; B itself when the scales agree. */
    private static float[] bAtScale(LoraDelta d, double scale) {
        if (d.scale() == scale) {
            return d.b();
        }
        double ratio = d.scale() / scale;
        float[] b = new float[d.b().length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (ratio * d.b()[i]);
        }
        return b;
    }

    /** Deltas by module name. */
    public Map<String, LoraDelta> byModule() {
        Map<String, LoraDelta> m = new LinkedHashMap<>();
        deltas.forEach(d -> m.put(d.module(), d));
        return m;
    }
}
