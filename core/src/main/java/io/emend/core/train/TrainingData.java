package io.emend.core.train;

import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.train.data.HeldOutSplit;
import io.emend.core.train.data.JsonlDataset;
import io.emend.core.train.data.PackedSequence;
import io.emend.core.train.data.Packing;
import io.emend.core.train.data.TrainingExample;
import io.emend.core.train.forgetting.Replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fine-tune's rows: the new data split into training and held-out parts, with replay rows mixed into training, and
 * the replay data's own held-out part kept to measure retention.
 *
 * @param train          rows trained on (new data plus replay)
 * @param heldOut        rows of held-out new examples
 * @param replayHeldOut  rows of held-out replay examples (empty without replay)
 * @param trainExamples  examples of new data trained on
 */
public record TrainingData(List<PackedSequence> train, List<PackedSequence> heldOut, List<PackedSequence> replayHeldOut,
                           int trainExamples) {

    public TrainingData {
        train = List.copyOf(train);
        heldOut = List.copyOf(heldOut);
        replayHeldOut = List.copyOf(replayHeldOut);
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training rows: the data has no token to learn from");
        }
    }

    /** Reads, tokenizes, splits, packs and mixes the data files as {@code config} says. */
    public static TrainingData load(Tokenizer tokenizer, Path data, List<Path> replayFiles, FineTuneConfig config)
            throws IOException {
        List<TrainingExample> examples = JsonlDataset.read(data, tokenizer);
        HeldOutSplit split = HeldOutSplit.of(examples, config.heldOutFraction(), config.seed());
        List<PackedSequence> replayTrain = new ArrayList<>();
        List<PackedSequence> replayHeld = new ArrayList<>();
        double fraction = config.forgetting().replayFraction();
        if (fraction > 0 && replayFiles.isEmpty()) {
            throw new IllegalArgumentException("a replay fraction of " + fraction + " needs at least one replay file");
        }
        if (fraction > 0) {
            List<TrainingExample> replay = new ArrayList<>();
            for (Path p : replayFiles) {
                replay.addAll(JsonlDataset.read(p, tokenizer));
            }
            HeldOutSplit rs = HeldOutSplit.of(replay, replay.size() > 1 ? config.heldOutFraction() : 0, config.seed());
            replayTrain.addAll(Packing.pack(rs.train(), config.seqLen()));
            replayHeld.addAll(Packing.pack(rs.heldOut(), config.seqLen()));
        }
        List<PackedSequence> fresh = Packing.pack(split.train(), config.seqLen());
        return new TrainingData(Replay.mix(fresh, replayTrain, fraction, config.seed()),
                Packing.pack(split.heldOut(), config.seqLen()), replayHeld, split.train().size());
    }
}
