package io.emend.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.emend.core.format.safetensors.CheckpointWriter;
import io.emend.core.graph.Transformer;
import io.emend.core.graph.WeightDelta;
import io.emend.core.model.LlamaConfig;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model with its deltas folded into the weights, written as a Hugging Face directory (F32 safetensors under the
 * canonical names, the base's config and tokenizer files copied). Llama projections go back to {@code Linear}'s
 * {@code [out, in]}; GPT-2's Conv1D weights stay {@code [in, out]}. Tensors are merged and written one at a time.
 */
public final class MergedModel {

    /** Files copied unchanged from the base directory when present. */
    static final List<String> SIDE_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json");
    private static final long MAX_SHARD_BYTES = 5L << 30;

    private MergedModel() {
    }

    public static void write(Transformer model, Map<String, List<WeightDelta>> deltas, Path baseDir, Path outDir)
            throws IOException {
        boolean linear = model.config() instanceof LlamaConfig;
        List<TensorInfo> infos = new ArrayList<>();
        for (String name : model.parameterNames()) {
            long[] shape = model.parameter(name).getShape().getShape();
            if (linear && model.isProjection(name)) {
                shape = new long[] {shape[1], shape[0]};
            }
            infos.add(new TensorInfo(name, DType.F32, shape));
        }
        try (CheckpointWriter w = CheckpointWriter.create(outDir, infos, Map.of("format", "pt"), MAX_SHARD_BYTES)) {
            for (String name : model.parameterNames()) {
                try (NDManager m = NDManager.newBaseManager()) {
                    NDArray stored = model.parameter(name);
                    NDArray sum = m.zeros(stored.getShape()).add(stored);
                    for (WeightDelta d : deltas.getOrDefault(name, List.of())) {
                        sum = switch (d) {
                            case WeightDelta.LowRank l -> sum.add(m.zeros(l.a().getShape()).add(l.a()).matMul(l.b())
                                    .mul((float) l.scale()));
                            case WeightDelta.Dense dense -> sum.add(dense.d());
                        };
                    }
                    if (linear && model.isProjection(name)) {
                        sum = sum.transpose();
                    }
                    w.write(name, sum.toFloatArray());
                }
            }
            w.commit();
        }
        for (String f : SIDE_FILES) {
            Path src = baseDir.resolve(f);
            if (Files.isRegularFile(src)) {
                Files.copy(src, outDir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
