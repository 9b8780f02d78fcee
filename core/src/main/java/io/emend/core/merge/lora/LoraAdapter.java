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

    /** Writes the adapter in PEFT's layout (F32 factors) through {@link LoraDeltas#write}. */
    public void write(Path dir) throws IOException {
        Map<String, LoraDeltas.Module> modules = new LinkedHashMap<>();
        for (LoraDelta d : deltas) {
            modules.put(d.module(), new LoraDeltas.Module(d.module(), d.in(), d.out(), d.a(), d.b(), null));
        }
        new LoraDeltas(config, false, modules).write(dir);
    }

    /** Deltas by module name. */
    public Map<String, LoraDelta> byModule() {
        Map<String, LoraDelta> m = new LinkedHashMap<>();
        deltas.forEach(d -> m.put(d.module(), d));
        return m;
    }
}
