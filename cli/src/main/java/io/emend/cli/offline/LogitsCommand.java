package io.emend.cli.offline;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.graph.TokenBatch;
import io.emend.core.graph.Transformer;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code emend logits --model DIR --tokens 3,17,42}: the logits of every position, printed as one JSON object
 * {@code {"tokens":[...],"logits":[[...],...]}}. By default the differentiable graph computes them in F32 (F16 and
 * BF16 weights widened); {@code --engine quantized --quant q4_0} runs the serving engine on weights stored in that
 * format instead, with the same output, and {@code --compare-f32} adds one line on stderr with how far those logits
 * are from the same engine's F32 ones (the quantization error, measured rather than assumed). With the quantized
 * engine, {@code --model} may also be a GGUF file (e.g. from {@code emend export}), run with the types it stores.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print the logits of every position for the given token ids, as JSON (graph in F32, or the "
                + "quantized engine with --engine quantized).")
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

    @Option(names = "--engine", defaultValue = "graph", paramLabel = "ENGINE",
            description = "graph (DJL, F32; the default) or quantized (the serving engine)")
    String engine;

    @Option(names = "--quant", paramLabel = "RULE",
            description = "with --engine quantized: f32 (default), f16, q8_0, q4_0, mixed, or attention=..,mlp=..,head=..")
    String quant;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "with --engine quantized: compute threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--compare-f32",
            description = "with --engine quantized: also print, on stderr, the max |logit difference| from F32 and "
                    + "how many positions keep F32's top token")
    boolean compareF32;

    @Override
    public Integer call() throws Exception {
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        float[][] logits = switch (engine.toLowerCase(Locale.ROOT)) {
            case "graph" -> {
                if (quant != null || compareF32) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--quant and --compare-f32 need --engine quantized (the graph computes in F32)");
                }
                yield graph(ids);
            }
            case "quantized" -> quantized(ids);
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--engine must be graph or quantized, got '" + engine + "'");
        };
        ObjectMapper json = new ObjectMapper();
        ObjectNode out = json.createObjectNode();
        ArrayNode t = out.putArray("tokens");
        for (int id : ids) {
            t.add(id);
        }
        ArrayNode rows = out.putArray("logits");
        for (float[] position : logits) {
            ArrayNode row = rows.addArray();
            for (float v : position) {
                row.add(v);
            }
        }
        PrintWriter w = spec.commandLine().getOut();
        w.println(json.writeValueAsString(out));
        w.flush();
        return 0;
    }

    private float[][] graph(int[] ids) throws IOException {
        try (Transformer m = model.transformer(Optional.ofNullable(weights)); NDManager scope = NDManager.newBaseManager()) {
            checkTokens(ids, m.config().vocabSize(), m.config().maxPositions());
            float[] flat = m.forward(scope, TokenBatch.of(ids), model.options(scope, m)).logits().toFloatArray();
            int vocab = m.config().vocabSize();
            float[][] rows = new float[ids.length][];
            for (int p = 0; p < ids.length; p++) {
                rows[p] = java.util.Arrays.copyOfRange(flat, p * vocab, (p + 1) * vocab);
            }
            return rows;
        }
    }

    private float[][] quantized(int[] ids) throws IOException {
        if (gguf()) {
            if (quant != null || compareF32 || weights != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--quant, --compare-f32 and --weights do"
                        + " not apply to a GGUF file: its tensors are used with the types they are stored in");
            }
            return engineLogits(ids, QuantRule.uniform(io.emend.core.quant.WeightFormat.F32));
        }
        QuantRule rule;
        try {
            rule = QuantRule.parse(quant == null ? "f32" : quant);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--quant: " + e.getMessage());
        }
        if (threads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
        }
        if (model.adapter != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--adapter is applied by the graph engine only; drop it or use --engine graph");
        }
        float[][] logits = engineLogits(ids, rule);
        if (compareF32) {
            float[][] reference = engineLogits(ids, QuantRule.uniform(io.emend.core.quant.WeightFormat.F32));
            double worst = 0;
            int sameTop = 0;
            for (int p = 0; p < ids.length; p++) {
                for (int v = 0; v < logits[p].length; v++) {
                    worst = Math.max(worst, Math.abs(logits[p][v] - reference[p][v]));
                }
                if (argmax(logits[p]) == argmax(reference[p])) {
                    sameTop++;
                }
            }
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "%s vs f32: max |logit difference| %.6f, top-1 token equal at %d/%d positions%n",
                    rule, worst, sameTop, ids.length);
            err.flush();
        }
        return logits;
    }

    /** Every position's logits from the quantized engine, the whole prompt in one step. */
    private float[][] engineLogits(int[] ids, QuantRule rule) throws IOException {
        try (Decoder decoder = Decoder.load(gguf() ? model.dir : model.directory(), Optional.ofNullable(weights), rule,
                threads)) {
            checkTokens(ids, decoder.config().vocabSize(), decoder.config().maxPositions());
            Sequence s = decoder.newSequence();
            return decoder.step(List.of(new Decoder.Chunk(s, ids, true))).getFirst();
        }
    }

    /** {@code --model} names a GGUF file, which the quantized engine loads as stored. */
    private boolean gguf() {
        return java.nio.file.Files.isRegularFile(model.dir) && model.dir.toString().endsWith(Decoder.GGUF_SUFFIX);
    }

    private void checkTokens(int[] ids, int vocab, int context) {
        TokenIds.check(spec, "--tokens", ids, vocab);
        if (ids.length > context) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tokens has " + ids.length
                    + " ids, the model's context is " + context);
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
