package io.emend.core.merge.plan;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a merge wrote.
 *
 * @param directory   the output model directory
 * @param tensors     tensors written
 * @param inputBytes  stored bytes of every input tensor (each counted once, however often a method reads it)
 * @param outputBytes stored bytes of the output tensors
 * @param elapsed     wall time of the merge, files included
 * @param files       the files of the output directory
 */
public record MergeResult(Path directory, int tensors, long inputBytes, long outputBytes, Duration elapsed,
                          List<String> files) {

    public MergeResult {
        files = List.copyOf(files);
    }
}
