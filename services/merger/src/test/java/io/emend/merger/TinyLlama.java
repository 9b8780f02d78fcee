package io.emend.merger.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny-llama fixture (F32) and copies of it with a known constant added to every weight, read back tensor by
 * tensor straight from the safetensors bytes (8-byte little-endian header length, JSON header, data), so the test
 * checks the merged weights independently of core's reader.
 */
final class TinyLlama {

    static final Path FIXTURE = Path.of(System.getProperty("emend.fixtures", "../../../shared/fixtures"))
            .resolve("tiny-llama");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyLlama() {
    }

    /** A model directory like the fixture whose every F32 weight is {@code delta} larger. */
    static Path shifted(Path dir, float delta) throws IOException {
        Files.createDirectories(dir);
        Files.copy(FIXTURE.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(FIXTURE.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        byte[] bytes = Files.readAllBytes(FIXTURE.resolve("model.safetensors"));
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buffer.getLong(0);
        for (int at = (int) (8 + headerLength); at < bytes.length; at += Float.BYTES) {
            buffer.putFloat(at, buffer.getFloat(at) + delta);
        }
        Files.write(dir.resolve("model.safetensors"), bytes);
        return dir;
    }

    /** Every tensor of a single-file F32 safetensors, by name. */
    static Map<String, float[]> tensors(byte[] file) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) buffer.getLong(0);
        JsonNode header = JSON.readTree(new String(file, 8, headerLength, java.nio.charset.StandardCharsets.UTF_8));
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (var fields = header.fields(); fields.hasNext(); ) {
            var field = fields.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            if (!field.getValue().path("dtype").asText().equals("F32")) {
                throw new IllegalStateException(field.getKey() + " is " + field.getValue().path("dtype") + ", not F32");
            }
            long begin = field.getValue().path("data_offsets").get(0).asLong();
            long end = field.getValue().path("data_offsets").get(1).asLong();
            float[] values = new float[(int) ((end - begin) / Float.BYTES)];
            for (int i = 0; i < values.length; i++) {
                values[i] = buffer.getFloat((int) (8 + headerLength + begin) + i * Float.BYTES);
            }
            tensors.put(field.getKey(), values);
        }
        return tensors;
    }

    static Map<String, float[]> original() throws IOException {
        return tensors(Files.readAllBytes(FIXTURE.resolve("model.safetensors")));
    }
}
