package io.emend.registry.imports;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonFactory;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.hf.HfConfig;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.model.ModelConfig;
import io.emend.core.tensor.TensorInfo;
import io.emend.registry.artifact.ArtifactPath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A Hugging Face model directory on local disk, checked before anything of it is accepted: {@code config.json} is a
 * supported architecture, {@code tokenizer.json} is a JSON object, and every {@code *.safetensors} file has a valid
 * header (dtype F32/F16/BF16, offsets inside the file, no overlaps: {@link SafetensorsFile} checks those) whose
 * tensors have the shapes the config implies. Hidden files ({@code .git}, {@code .cache}) are not part of the model.
 */
final class HfDirectory {

    /** One file of the model, with its path inside the model directory. */
    record ModelFile(String path, Path file, long size) {
    }

    /** A checked directory: its typed config and the files to copy. */
    record Checked(ModelConfig config, List<ModelFile> files) {
    }

    private HfDirectory() {
    }

    static Checked check(Path dir) {
        List<ModelFile> files = files(dir);
        Map<String, ModelFile> byPath = new HashMap<>();
        files.forEach(f -> byPath.put(f.path(), f));
        ModelFile configFile = byPath.get("config.json");
        if (configFile == null) {
            throw new InvalidModel("missing-config", "the directory has no config.json");
        }
        ModelConfig config;
        try {
            config = HfConfig.read(configFile.file());
        } catch (MalformedFileException e) {
            throw new InvalidModel("invalid-config", relative(dir, e.getMessage()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ModelFile tokenizer = byPath.get("tokenizer.json");
        if (tokenizer == null) {
            throw new InvalidModel("missing-tokenizer", "the directory has no tokenizer.json");
        }
        checkJsonObject(tokenizer);
        List<ModelFile> weights = files.stream().filter(f -> f.path().endsWith(".safetensors")).toList();
        if (weights.isEmpty()) {
            throw new InvalidModel("missing-weights", "the directory has no .safetensors file");
        }
        checkShapes(dir, config, weights);
        return new Checked(config, files);
    }

    /** Streams a file through SHA-256. */
    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.getFileName(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static List<ModelFile> files(Path dir) {
        List<ModelFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : (Iterable<Path>) walk::iterator) {
                String path = dir.relativize(file).toString().replace('\\', '/');
                if (path.isEmpty() || Arrays.stream(path.split("/")).anyMatch(s -> s.startsWith("."))
                        || !Files.isRegularFile(file)) {
                    continue;
                }
                ArtifactPath.check("path", path);
                files.add(new ModelFile(path, file, Files.size(file)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model directory", e);
        }
        files.sort(java.util.Comparator.comparing(ModelFile::path));
        return files;
    }

    /** Parses the whole document as a stream of tokens: a large tokenizer never sits in memory as a tree. */
    private static void checkJsonObject(ModelFile file) {
        try (JsonParser parser = new JsonFactory().createParser(file.file().toFile())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidModel("invalid-tokenizer", file.path() + " must be a JSON object");
            }
            parser.skipChildren();
            if (parser.nextToken() != null) {
                throw new InvalidModel("invalid-tokenizer", file.path() + " has content after its JSON object");
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidModel("invalid-tokenizer", file.path() + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkShapes(Path dir, ModelConfig config, List<ModelFile> weights) {
        Map<String, TensorInfo> seen = new HashMap<>();
        Map<String, long[]> expected = null;
        for (ModelFile weight : weights) {
            try (SafetensorsFile file = SafetensorsFile.open(weight.file())) {
                if (expected == null) {
                    boolean prefixed = file.tensors().stream().anyMatch(t -> t.name().startsWith("transformer."));
                    expected = ExpectedShapes.of(config, prefixed ? "transformer." : "");
                }
                for (TensorInfo tensor : file.tensors()) {
                    long[] shape = expected.get(tensor.name());
                    if (shape != null && !Arrays.equals(shape, tensor.shape())) {
                        throw new InvalidModel("shape-mismatch", weight.path() + ": tensor " + tensor.name()
                                + " has shape " + Arrays.toString(tensor.shape()) + ", config.json implies "
                                + Arrays.toString(shape));
                    }
                    seen.putIfAbsent(tensor.name(), tensor);
                }
            } catch (MalformedFileException e) {
                throw new InvalidModel("invalid-safetensors", relative(dir, e.getMessage()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + weight.path(), e);
            }
        }
        List<String> missing = expected.keySet().stream().filter(name -> !seen.containsKey(name)).toList();
        if (!missing.isEmpty()) {
            throw new InvalidModel("missing-tensors", "config.json implies tensors no .safetensors file holds: "
                    + String.join(", ", missing.subList(0, Math.min(5, missing.size())))
                    + (missing.size() > 5 ? " and " + (missing.size() - 5) + " more" : ""));
        }
    }

    /** Messages name files relative to the model directory: the server's own paths stay out of answers. */
    private static String relative(Path dir, String message) {
        return message.replace(dir.toAbsolutePath() + "/", "").replace(dir + "/", "");
    }
}
