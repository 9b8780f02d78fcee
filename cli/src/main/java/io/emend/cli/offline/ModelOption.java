package io.emend.cli.offline;

import ai.djl.ndarray.NDManager;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** The {@code --model DIR} option shared by the offline commands: a Hugging Face model directory on disk. */
public final class ModelOption {

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, tokenizer.json, *.safetensors)")
    Path dir;

    @Option(names = "--adapter", paramLabel = "ADAPTER_DIR",
            description = "PEFT LoRA/DoRA adapter directory applied on top of the model")
    Path adapter;

    Path directory() throws NoSuchFileException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a model directory");
        }
        return dir;
    }

    /** The model with the named weights file (or the default one), computed in F32. */
    Transformer transformer(Optional<String> weightsFile) throws IOException {
        return Transformer.open(directory(), weightsFile);
    }

    /** Forward options carrying the {@code --adapter}'s deltas (created in {@code scope}), or the defaults. */
    ForwardOptions options(NDManager scope, Transformer m) throws IOException {
        if (adapter == null) {
            return ForwardOptions.defaults();
        }
        return ForwardOptions.defaults().withDeltas(LoraDeltas.read(adapter).weightDeltas(scope, m));
    }

    Tokenizer tokenizer() throws IOException {
        return Tokenizer.load(directory());
    }
}
