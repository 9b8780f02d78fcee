package io.emend.cli.export;

import io.emend.core.format.gguf.GgmlType;
import io.emend.core.format.gguf.GgufExport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code emend export --model DIR --format gguf --quant q8_0 --out FILE}: writes a Hugging Face Llama-family
 * directory as a GGUF file that llama.cpp and Ollama load (core's {@link GgufExport}), and that {@code emend serve}
 * and the quantized engine load as it is. The file appears whole or not at all (written beside the target, then
 * renamed); an existing file is only replaced with {@code --force}.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a Hugging Face model directory as a GGUF file (llama.cpp's layout; F32, F16, Q8_0 or Q4_0).")
public final class ExportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, tokenizer.json, *.safetensors)")
    Path model;

    @Option(names = "--format", defaultValue = "gguf", paramLabel = "FORMAT",
            description = "output format; gguf is the one supported (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--quant", defaultValue = "q8_0", paramLabel = "TYPE",
            description = "type of the weight matrices: f32, f16, q8_0 or q4_0 (default: ${DEFAULT-VALUE}); norms stay "
                    + "F32, and matrices whose rows are not whole 32-value blocks fall back to F16 as in llama.cpp")
    String quant;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the GGUF file to write")
    Path out;

    @Option(names = "--weights", paramLabel = "FILE",
            description = "weights file inside DIR (default: model.safetensors, else the shard index)")
    String weights;

    @Option(names = "--force", description = "replace --out if it exists")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (!format.toLowerCase(Locale.ROOT).equals("gguf")) {
            throw new ParameterException(spec.commandLine(), "--format must be gguf, got '" + format + "'");
        }
        GgmlType type = switch (quant.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            default -> throw new ParameterException(spec.commandLine(),
                    "--quant must be f32, f16, q8_0 or q4_0, got '" + quant + "'");
        };
        if (!Files.isDirectory(model)) {
            throw new ParameterException(spec.commandLine(), "--model: " + model + " is not a model directory");
        }
        if (!Files.isRegularFile(model.resolve("config.json"))) {
            throw new ParameterException(spec.commandLine(), "--model: " + model + " has no config.json");
        }
        Path target = out.toAbsolutePath().normalize();
        if (Files.isDirectory(target)) {
            throw new ParameterException(spec.commandLine(), "--out: " + out + " is a directory; name the file to write");
        }
        if (!Files.isDirectory(target.getParent())) {
            throw new ParameterException(spec.commandLine(), "--out: the directory " + target.getParent()
                    + " does not exist");
        }
        if (Files.exists(target) && !force) {
            throw new ParameterException(spec.commandLine(), "--out: " + out + " exists; add --force to replace it");
        }
        GgufExport.Result result = GgufExport.llama(model, Optional.ofNullable(weights), target, type);
        long matrices = result.tensors().stream().filter(t -> t.shape().length == 2).count();
        long fallbacks = result.tensors().stream().filter(t -> t.shape().length == 2 && t.type() != type).count();
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "wrote %s: %d tensors, %d matrices in %s%s, %.1f MB%n", out, result.tensors().size(),
                matrices - fallbacks, type, fallbacks == 0 ? "" : " (" + fallbacks + " in F16: rows not whole blocks)",
                Files.size(target) / 1e6);
        w.flush();
        return 0;
    }
}
