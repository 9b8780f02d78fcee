package io.emend.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.format.MalformedFileException;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.format.safetensors.SafetensorsWriter;
import io.emend.core.tensor.DType;
import io.emend.core.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A resumable snapshot of a fine-tune after {@code step} optimizer steps: the trained values, AdamW's moments, and the
 * state that fixes everything else. The data position and every random draw are functions of (seed, step) (see
 * {@link io.emend.core.train.data.SequenceOrder}), so the step and the seed are the whole RNG state; the fingerprint
 * of the config and data makes a resume with different settings fail instead of silently diverging.
 *
 * <p>On disk: {@code <dir>/checkpoint-<step, 6 digits>/} with {@code parameters.safetensors},
 * {@code optimizer.safetensors} ({@code m.<name>}, {@code v.<name>}) and {@code state.json}. The directory is
 * written under a temporary name and renamed into place, so a crash never leaves a half-written checkpoint behind.
 *
 * @param step        optimizer steps done
 * @param fingerprint hash of the config and data the run was started with
 * @param values      trained values by name
 * @param first       AdamW first moments by name
 * @param second      AdamW second moments by name
 * @param trainLoss   the last step's training loss
 */
public record TrainingCheckpoint(int step, String fingerprint, Map<String, float[]> values, Map<String, float[]> first,
                                 Map<String, float[]> second, double trainLoss) {

    static final String PARAMETERS = "parameters.safetensors";
    static final String OPTIMIZER = "optimizer.safetensors";
    static final String STATE = "state.json";
    private static final String PREFIX = "checkpoint-";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes the checkpoint under {@code dir} and returns its directory. */
    public Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path target = dir.resolve(String.format("%s%06d", PREFIX, step));
        Path temp = Files.createTempDirectory(dir, "." + target.getFileName() + ".");
        try {
            writeTensors(temp.resolve(PARAMETERS), Map.of("", values));
            Map<String, Map<String, float[]>> moments = new LinkedHashMap<>();
            moments.put("m.", first);
            moments.put("v.", second);
            writeTensors(temp.resolve(OPTIMIZER), moments);
            ObjectNode state = JSON.createObjectNode();
            state.put("step", step);
            state.put("fingerprint", fingerprint);
            state.put("train_loss", trainLoss);
            Files.writeString(temp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state));
            if (Files.exists(target)) {
                deleteTree(target);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            if (Files.exists(temp)) {
                deleteTree(temp);
            }
        }
    }

    private static void writeTensors(Path file, Map<String, Map<String, float[]>> groups) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        groups.forEach((prefix, arrays) -> arrays.forEach((k, v) ->
                infos.add(new TensorInfo(prefix + k, DType.F32, new long[] {v.length}))));
        try (SafetensorsWriter w = SafetensorsWriter.create(file, infos, Map.of())) {
            for (Map.Entry<String, Map<String, float[]>> g : groups.entrySet()) {
                for (Map.Entry<String, float[]> e : g.getValue().entrySet()) {
                    w.write(g.getKey() + e.getKey(), e.getValue());
                }
            }
            w.commit();
        }
    }

    /** The checkpoint with the highest step under {@code dir}, if any. */
    public static Optional<TrainingCheckpoint> latest(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        Optional<Path> last;
        try (Stream<Path> s = Files.list(dir)) {
            last = s.filter(p -> p.getFileName().toString().matches(PREFIX + "\\d{6,}") && Files.isDirectory(p))
                    .max(Comparator.comparing(p -> Long.parseLong(p.getFileName().toString().substring(PREFIX.length()))));
        }
        return last.isEmpty() ? Optional.empty() : Optional.of(read(last.get()));
    }

    /** Reads one checkpoint directory. */
    public static TrainingCheckpoint read(Path checkpoint) throws IOException {
        Path stateFile = checkpoint.resolve(STATE);
        JsonNode state;
        try {
            state = JSON.readTree(Files.readString(stateFile));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new MalformedFileException(stateFile.toString(), "not valid JSON: " + e.getOriginalMessage());
        }
        if (!state.path("step").isIntegralNumber() || !state.path("fingerprint").isTextual()) {
            throw new MalformedFileException(stateFile.toString(), "needs integer \"step\" and string \"fingerprint\"");
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, float[]> m = new LinkedHashMap<>();
        Map<String, float[]> v = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint.resolve(PARAMETERS))) {
            for (TensorInfo t : f.tensors()) {
                values.put(t.name(), f.floats(t.name()));
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint.resolve(OPTIMIZER))) {
            for (TensorInfo t : f.tensors()) {
                String n = t.name();
                (n.startsWith("m.") ? m : v).put(n.substring(2), f.floats(n));
            }
        }
        return new TrainingCheckpoint(state.get("step").intValue(), state.get("fingerprint").textValue(), values, m, v,
                state.path("train_loss").asDouble(Double.NaN));
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
