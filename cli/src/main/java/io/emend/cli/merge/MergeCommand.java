package io.emend.cli.merge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.merge.TensorMerge;
import io.emend.core.merge.plan.MergeExecutor;
import io.emend.core.merge.plan.MergePlan;
import io.emend.core.merge.plan.MergeProgress;
import io.emend.core.merge.plan.MergeResult;
import io.emend.core.merge.recipe.MergeRecipe;
import io.emend.core.merge.recipe.RecipeParser;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code emend merge CONFIG.yml OUT_DIR}: runs a mergekit-style recipe locally, without the stack, like
 * {@code mergekit-yaml}, and writes a Hugging Face model directory. Model paths in the recipe are directories,
 * relative to the recipe file or absolute.
 */
@Command(name = "merge",
        description = "Merge models from a mergekit-style YAML (or JSON) recipe into a new Hugging Face model directory.",
        mixinStandardHelpOptions = true)
public final class MergeCommand implements Callable<Integer> {

    /** Width of the progress bar in characters. */
    private static final int BAR_WIDTH = 30;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG", description = "the recipe (.yml/.yaml, or .json)")
    Path config;

    @Parameters(index = "1", paramLabel = "OUT_DIR", description = "the new model directory (must not exist or be empty)")
    Path out;

    @Option(names = "--json", description = "print the result as JSON on stdout")
    boolean json;

    @Option(names = "--max-shard-size", paramLabel = "BYTES", defaultValue = "" + MergeExecutor.DEFAULT_MAX_SHARD_BYTES,
            description = "largest output shard in bytes (default: ${DEFAULT-VALUE})")
    long maxShardBytes;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(config)) {
            throw new NoSuchFileException(config + ": no such recipe file");
        }
        if (maxShardBytes <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-shard-size must be positive");
        }
        MergeRecipe recipe = RecipeParser.read(config);
        Path recipeDir = config.toAbsolutePath().getParent();
        PrintWriter err = spec.commandLine().getErr();
        MergeResult result;
        boolean[] drawn = {false};
        MergeProgress bar = progressBar(err);
        // AdaMerging's search runs inside create; its steps get their own line before the tensor bar
        try (MergePlan plan = MergePlan.create(recipe, ref -> recipeDir.resolve(ref), (step, steps, entropy) -> {
            err.printf(Locale.ROOT, "\radamerging step %d/%d, batch entropy %.4f", step, steps, entropy);
            if (step == steps) {
                err.println();
            }
            err.flush();
        })) {
            plan.learned().ifPresent(l -> err.printf(Locale.ROOT,
                    "adamerging: entropy %.4f -> %.4f nats per token on %d positions%n",
                    l.entropyBefore(), l.entropyAfter(), l.positions()));
            result = MergeExecutor.run(plan, out, new MergeExecutor.Options(maxShardBytes, TensorMerge.DEFAULT_CHUNK),
                    (done, total, name) -> {
                        drawn[0] = true;
                        bar.tensorDone(done, total, name);
                    });
        } finally {
            if (drawn[0]) {
                // end the bar's line so that the one-line error (or the summary) starts on its own line
                err.println();
                err.flush();
            }
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode node = mapper.createObjectNode();
            node.put("output", result.directory().toString());
            node.put("method", recipe.method().name());
            node.put("tensors", result.tensors());
            node.put("input_bytes", result.inputBytes());
            node.put("output_bytes", result.outputBytes());
            node.put("seconds", result.elapsed().toNanos() / 1e9);
            result.files().forEach(node.withArray("files")::add);
            stdout.println(mapper.writeValueAsString(node));
        } else {
            stdout.printf(Locale.ROOT, "merged %d tensors (%s read, %s written) with %s into %s in %.1f s%n",
                    result.tensors(), megabytes(result.inputBytes()), megabytes(result.outputBytes()),
                    recipe.method().name(), result.directory(), result.elapsed().toNanos() / 1e9);
        }
        stdout.flush();
        return 0;
    }

    /** {@code [#########.....................] 12/30 tensors}, redrawn in place with a carriage return. */
    static MergeProgress progressBar(PrintWriter err) {
        return (done, total, name) -> {
            int filled = total == 0 ? BAR_WIDTH : (int) ((long) done * BAR_WIDTH / total);
            err.print("\r[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + done + "/" + total + " tensors");
            err.flush();
        };
    }

    private static String megabytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
