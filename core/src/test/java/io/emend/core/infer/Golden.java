package io.emend.core.infer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.StreamSupport;

/** The fixtures' golden outputs (float64 reference, HF semantics). */
record Golden(int[] tokens, JsonNode logits) {

    static Golden of(String model) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.model(model).resolve("golden.json").toFile());
        return new Golden(ints(root.get("tokens")), root.get("logits"));
    }

    static Path dir(String model) {
        return Fixtures.model(model);
    }

    /** Logits per position computed from {@code weightsFile}. */
    float[][] logits(String weightsFile) {
        JsonNode rows = logits.get(weightsFile);
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = rows.get(i);
            out[i] = new float[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = (float) row.get(j).asDouble();
            }
        }
        return out;
    }

    List<String> weightFiles() {
        return StreamSupport.stream(((Iterable<String>) logits::fieldNames).spliterator(), false).toList();
    }

    static int[] ints(JsonNode array) {
        int[] v = new int[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).asInt();
        }
        return v;
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs((double) a[i][j] - b[i][j]));
            }
        }
        return max;
    }

}
