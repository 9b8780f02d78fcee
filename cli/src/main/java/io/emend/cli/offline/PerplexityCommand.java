package io.emend.cli.offline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.eval.Perplexity;
import io.emend.core.eval.PerplexityResult;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code emend perplexity --model DIR --text FILE}: perplexity of a UTF-8 text file, per document (blank-line
 * separated, BOS each), with a sliding window for documents longer than the context; see {@link Perplexity}.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity of a text file: documents split on blank lines, BOS per document, sliding window.")
public final class PerplexityCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--text", required = true, paramLabel = "FILE", description = "UTF-8 text file")
    Path text;

    @Option(names = "--window", paramLabel = "N", description = "tokens per window (default: the model's context)")
    Integer window;

    @Option(names = "--stride", paramLabel = "N", description = "tokens between window starts (default: window / 2)")
    Integer stride;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(text)) {
            throw new NoSuchFileException(text.toString(), null, "no such text file");
        }
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(text)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(text + ": not valid UTF-8 text");
        }
        try (Transformer m = model.transformer(Optional.empty()); Tokenizer tokenizer = model.tokenizer();
             ai.djl.ndarray.NDManager scope = ai.djl.ndarray.NDManager.newBaseManager()) {
            int w = window == null ? m.config().maxPositions() : window;
            int s = stride == null ? Math.max(1, w / 2) : stride;
            if (w < 2 || w > m.config().maxPositions()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--window must be in [2, "
                        + m.config().maxPositions() + "], got " + w);
            }
            if (s < 1 || s >= w) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--stride must be in [1, " + (w - 1)
                        + "], got " + s);
            }
            PerplexityResult r = Perplexity.of(m, tokenizer, content, w, s, model.options(scope, m));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ObjectNode node = new ObjectMapper().createObjectNode();
                node.put("perplexity", r.perplexity());
                node.put("mean_nll", r.meanNll());
                node.put("tokens", r.predictions());
                node.put("documents", r.documents());
                node.put("window", w);
                node.put("stride", s);
                out.println(new ObjectMapper().writeValueAsString(node));
            } else {
                out.printf(Locale.ROOT, "perplexity %.4f (mean NLL %.6f nats/token over %d tokens in %d documents)%n",
                        r.perplexity(), r.meanNll(), r.predictions(), r.documents());
            }
            out.flush();
        }
        return 0;
    }
}
