package io.emend.cli.offline;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code emend tokenize --model DIR --text TEXT}: the ids the model sees for a text (BOS first), as a JSON array. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text as a JSON array (BOS first unless --no-bos).")
public final class TokenizeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--text", required = true, paramLabel = "TEXT", description = "the text to encode")
    String text;

    @Option(names = "--no-bos", description = "leave out the beginning-of-sequence token")
    boolean noBos;

    @Override
    public Integer call() throws Exception {
        try (Tokenizer tokenizer = model.tokenizer()) {
            PrintWriter out = spec.commandLine().getOut();
            out.println(new ObjectMapper().writeValueAsString(tokenizer.encode(text, !noBos)));
            out.flush();
        }
        return 0;
    }
}
