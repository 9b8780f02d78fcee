package io.emend.cli.offline;

import io.emend.core.generate.Generator;
import io.emend.core.generate.SamplingParams;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code emend generate --model DIR --prompt TEXT --max-tokens N}: prints the continuation as it is generated. Greedy
 * at temperature 0 (the default); with a temperature, sampled with top-k/top-p and a seed that reproduces the output.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with the model (graph, F32), streaming the text to stdout.")
public final class GenerateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "the prompt (BOS is added)")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "64", paramLabel = "N",
            description = "most new tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "0 for greedy (default), else the sampling temperature")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "sample among the K likeliest; 0 = all")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "nucleus sampling mass; 1 = all")
    double topP;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "sampling seed (default: 0)")
    long seed;

    @Option(names = "--stop", paramLabel = "STR", description = "stop before this text (repeatable)")
    List<String> stop = List.of();

    @Override
    public Integer call() throws Exception {
        SamplingParams params;
        try {
            params = new SamplingParams(temperature, topK, topP, seed, maxTokens, stop);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Transformer m = model.transformer(Optional.empty()); Tokenizer tokenizer = model.tokenizer();
             ai.djl.ndarray.NDManager scope = ai.djl.ndarray.NDManager.newBaseManager()) {
            int[] ids = tokenizer.encode(prompt, true);
            if (ids.length == 0) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--prompt is empty and the model has no BOS token to start from");
            }
            if (ids.length > m.config().maxPositions()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--prompt is " + ids.length
                        + " tokens, the model's context is " + m.config().maxPositions());
            }
            new Generator(m, tokenizer).generate(ids, params,
                    model.options(scope, m), (id, text) -> {
                        if (!text.isEmpty()) {
                            out.print(text);
                            out.flush();
                        }
                    });
            out.println();
            out.flush();
        }
        return 0;
    }
}
