package io.emend.cli.serve;

import io.emend.cli.Workspace;
import io.emend.core.infer.QuantRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code emend serve --model DIR|FILE.gguf}: the serving service on one local model, with no registry and no broker, in the
 * foreground (like {@code llama-server -m}). It runs the same packaged service the stack runs
 * ({@code services/serving/target/quarkus-app}), in a JVM of its own configured for standalone mode, rather than
 * embedding Quarkus in the CLI: one build of the service, one behaviour, and the CLI stays a small plain-Java program.
 * Ctrl-C stops it.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a local Hugging Face model or GGUF file over the OpenAI API (/v1/completions, /v1/chat/completions, /v1/models).")
public final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|FILE.gguf",
            description = "Hugging Face model directory (config.json, tokenizer.json, *.safetensors), or a GGUF file "
                    + "(served with its stored types; the model's tokenizer.json must lie beside it)")
    Path model;

    @Option(names = "--name", paramLabel = "NAME",
            description = "the model name clients send (default: the directory's name, or the GGUF file's without .gguf)")
    String name;

    @Option(names = "--quant", defaultValue = "q8_0", paramLabel = "RULE",
            description = "f32, f16, q8_0, q4_0, mixed, or attention=..,mlp=..,head=.. (default: ${DEFAULT-VALUE})")
    String quant;

    @Option(names = "--port", defaultValue = "8085", paramLabel = "N", description = "HTTP port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface)")
    String host;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "compute threads; 0 = one per core")
    int threads;

    @Option(names = "--max-batch", defaultValue = "16", paramLabel = "N", description = "sequences per decode step (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--queue-size", defaultValue = "64", paramLabel = "N",
            description = "requests waiting for a slot before 429 (default: ${DEFAULT-VALUE})")
    int queueSize;

    @Option(names = "--adapter", paramLabel = "NAME=DIR",
            description = "a delta requests may name as model+NAME: a PEFT LoRA adapter, or an edit directory that"
                    + " 'emend edit --out' wrote (its edit_delta.safetensors) (repeatable)")
    Map<String, Path> adapters = new LinkedHashMap<>();

    @Option(names = "--jvm-option", paramLabel = "OPT", description = "an option for the service's JVM (repeatable)")
    List<String> jvmOptions = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path dir = model.toAbsolutePath().normalize();
        boolean gguf = Files.isRegularFile(dir);
        if (gguf) {
            if (!dir.getFileName().toString().endsWith(".gguf")) {
                throw new ParameterException(spec.commandLine(), "--model: " + model + " is a file but not a .gguf;"
                        + " serve takes a Hugging Face model directory or a GGUF file");
            }
            if (!Files.isRegularFile(dir.resolveSibling("tokenizer.json"))) {
                throw new ParameterException(spec.commandLine(), "--model: no tokenizer.json beside " + model
                        + "; a GGUF file is served with the model's tokenizer.json in the same directory");
            }
        } else if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new ParameterException(spec.commandLine(), "--model: " + model + " has no config.json");
        }
        try {
            QuantRule.parse(quant);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--quant: " + e.getMessage());
        }
        if (port < 1 || port > 65535) {
            throw new ParameterException(spec.commandLine(), "--port must be between 1 and 65535, got " + port);
        }
        if (threads < 0 || maxBatch < 1 || queueSize < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be >= 0, --max-batch and --queue-size >= 1");
        }
        for (var a : adapters.entrySet()) {
            if (!Files.isDirectory(a.getValue())) {
                throw new ParameterException(spec.commandLine(), "--adapter " + a.getKey() + ": " + a.getValue()
                        + " is not a directory");
            }
        }
        Workspace workspace = Workspace.locate(null);
        Path jar = workspace.serviceJar("serving");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing; build it with ./mvnw -DskipTests package"
                    + " (./emend does this by itself)");
        }
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("quarkus.http.port", Integer.toString(port));
        properties.put("quarkus.http.host", host);
        properties.put("emend.serving.standalone.model-dir", dir.toString());
        if (name != null) {
            properties.put("emend.serving.standalone.name", name);
        }
        properties.put("emend.serving.quant", quant);
        properties.put("emend.serving.threads", Integer.toString(threads));
        properties.put("emend.serving.batching.max-batch", Integer.toString(maxBatch));
        properties.put("emend.serving.batching.queue-size", Integer.toString(queueSize));
        adapters.forEach((n, p) -> properties.put("emend.serving.standalone.adapters." + n,
                p.toAbsolutePath().normalize().toString()));

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseSerialGC", "-Dai.djl.offline=true"));
        command.addAll(jvmOptions);
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add(jar.toString());
        String served = name != null ? name : dir.getFileName().toString().replaceFirst("\\.gguf$", "");
        spec.commandLine().getErr().println("serving " + dir + " as " + served + " ("
                + (gguf ? "types as stored in the file" : quant) + ") on http://" + host + ":" + port + "/v1; Ctrl-C stops it");
        spec.commandLine().getErr().flush();
        Process service = new ProcessBuilder(command).inheritIO().start();
        Thread stop = new Thread(() -> {
            service.destroy();
            try {
                service.waitFor();
            } catch (InterruptedException e) {
                service.destroyForcibly();
            }
        });
        Runtime.getRuntime().addShutdownHook(stop);
        int exit = service.waitFor();
        Runtime.getRuntime().removeShutdownHook(stop);
        return exit;
    }
}
