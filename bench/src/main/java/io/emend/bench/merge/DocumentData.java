package io.emend.bench.merge;

import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.TrainingData;
import io.emend.core.train.data.Packing;
import io.emend.core.train.data.TrainingExample;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The merge benches' fine-tuning data: each document with BOS, every token after the first a target, packed. */
final class DocumentData {

    private DocumentData() {
    }

    static TrainingData of(Path model, List<String> docs, int seqLen) throws IOException {
        List<TrainingExample> examples = new ArrayList<>();
        try (Tokenizer tokenizer = Tokenizer.load(model)) {
            for (int i = 0; i < docs.size(); i++) {
                int[] ids = tokenizer.encode(docs.get(i), true);
                boolean[] targets = new boolean[ids.length];
                Arrays.fill(targets, 1, targets.length, true);
                examples.add(new TrainingExample(ids, targets, i + 1));
            }
        }
        return new TrainingData(Packing.pack(examples, seqLen), List.of(), List.of(), examples.size());
    }
}
