package io.emend.cli.offline;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code emend logits --model DIR --tokens 3,17,42}: the logits of every position, computed by the graph in F32 (F16
 * and BF16 weights widened), printed as one JSON object {@code {"tokens":[...],"logits":[[...],...]}}.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print the logits of every position for the given token ids, as JSON (graph, F32).")
public final class LogitsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--tokens", required = true, split = ",", paramLabel = "ID[,ID...]",
            description = "token ids, comma-separated")
    List<Integer> tokens;

    @Option(names = "--weights", paramLabel = "FILE",
            description = "weights file inside DIR (default: model.safetensors, else the shard index)")
    String weights;

    @Override
    public Integer call() throws Exception {
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        try (Transformer m = model.transformer(Optional.ofNullable(weights)); NDManager scope = NDManager.newBaseManager()) {
            TokenIds.check(spec, "--tokens", ids, m.config().vocabSize());
            if (ids.length > m.config().maxPositions()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--tokens has " + ids.length
                        + " ids, the model's context is " + m.config().maxPositions());
            }
            float[] flat = m.forward(scope, TokenBatch.of(ids), model.options(scope, m)).logits().toFloatArray();
            int vocab = m.config().vocabSize();
            ObjectMapper json = new ObjectMapper();
            ObjectNode out = json.createObjectNode();
            ArrayNode t = out.putArray("tokens");
            for (int id : ids) {
                t.add(id);
            }
            ArrayNode rows = out.putArray("logits");
            for (int p = 0; p < ids.length; p++) {
                ArrayNode row = rows.addArray();
                for (int v = 0; v < vocab; v++) {
                    row.add(flat[p * vocab + v]);
                }
            }
            PrintWriter w = spec.commandLine().getOut();
            w.println(json.writeValueAsString(out));
            w.flush();
        }
        return 0;
    }
}
