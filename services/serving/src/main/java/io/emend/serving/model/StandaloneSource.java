package io.emend.serving.model;

import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One local Hugging Face directory (or one GGUF file with the model's {@code tokenizer.json} beside it) served under one name, with optional local adapter directories, and nothing else
 * (no registry, no broker), as {@code ./emend serve --model DIR} runs it. Its digest identifies the directory by its
 * files' names, sizes and modification times, so a restart after the files changed counts as a new version without
 * reading gigabytes at start.
 */
public final class StandaloneSource implements ModelSource {

    private final String name;
    private final Path dir;
    private final Optional<String> weightsFile;
    private final Map<String, Path> adapters;

    public StandaloneSource(String name, Path dir, Optional<String> weightsFile, Map<String, Path> adapters) {
        this.name = name;
        this.dir = dir.toAbsolutePath().normalize();
        this.weightsFile = weightsFile;
        this.adapters = Map.copyOf(adapters);
    }

    public String name() {
        return name;
    }

    @Override
    public ModelFiles base(String ref) throws IOException {
        if (!ref.equals(name)) {
            throw new ModelNotFound("The model `" + ref + "` does not exist; this server serves `" + name + "`");
        }
        ModelFiles files = new ModelFiles(new ModelVersion(name, Optional.empty(), identity(dir)), dir, weightsFile);
        if (files.gguf()) {
            for (Path needed : List.of(dir.resolve(weightsFile.get()), dir.resolve(Tokenizer.FILE_NAME))) {
                if (!Files.isRegularFile(needed)) {
                    throw new NoSuchFileException(needed.toString(), null,
                            "a GGUF model is served with the model's tokenizer.json in the same directory");
                }
            }
        } else if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new NoSuchFileException(dir.resolve("config.json").toString(), null, "not a Hugging Face model directory");
        }
        return files;
    }

    @Override
    public DeltaFiles delta(String ref) throws IOException {
        Path adapterDir = adapters.get(ref);
        if (adapterDir == null) {
            throw new ModelNotFound("The adapter `" + ref + "` does not exist; configured adapters: "
                    + (adapters.isEmpty() ? "none" : String.join(", ", adapters.keySet().stream().sorted().toList())));
        }
        return new DeltaFiles(new ModelVersion(ref, Optional.empty(), identity(adapterDir)), adapterDir, Optional.empty());
    }

    @Override
    public Optional<String> defaultModel() {
        return Optional.of(name);
    }

    /** SHA-256 over the directory's regular files' names, sizes and modification times. */
    static String identity(Path dir) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        sha.update(dir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : files) {
            sha.update((f.getFileName() + "\0" + Files.size(f) + "\0" + Files.getLastModifiedTime(f).toMillis() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
