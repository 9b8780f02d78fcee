package io.emend.merger;

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
public final class TinyLlama {

    public static final Path FIXTURE = Path.of(System.getProperty("emend.fixtures", "../../../shared/fixtures"))
            .resolve("tiny-llama");
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyLlama() {
    }

    /** stories260k, a real (tiny) language model for what runs the graph: AdaMerging, perplexity. */
    public static final Path STORIES = FIXTURE.resolveSibling("stories260k");

    /** A model directory like the fixture whose every F32 weight is {@code delta} larger. */
    public static Path shifted(Path dir, float delta) throws IOException {
        return shifted(FIXTURE, dir, delta);
    }

    /**
     * A model directory like {@code fixture} (config, tokenizer, one F32 model.safetensors) whose every weight is
     * {@code delta} larger; {@code delta = 0} gives a clean copy of the model's files alone.
     */
    public static Path shifted(Path fixture, Path dir, float delta) throws IOException {
        Files.createDirectories(dir);
        for (String file : java.util.List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            if (Files.isRegularFile(fixture.resolve(file))) {
                Files.copy(fixture.resolve(file), dir.resolve(file));
            }
        }
        byte[] bytes = Files.readAllBytes(fixture.resolve("model.safetensors"));
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = buffer.getLong(0);
        for (int at = (int) (8 + headerLength); at < bytes.length; at += Float.BYTES) {
            buffer.putFloat(at, buffer.getFloat(at) + delta);
        }
        Files.write(dir.resolve("model.safetensors"), bytes);
        return dir;
    }

    /** Every tensor of a single-file F32 safetensors, by name. */
    public static Map<String, float[]> tensors(byte[] file) throws IOException {
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

    public static Map<String, float[]> original() throws IOException {
        return tensors(Files.readAllBytes(FIXTURE.resolve("model.safetensors")));
    }

    /** Writes F32 tensors ({@code name → (shape, values)}) as one safetensors file, header padded to 8 bytes. */
    public static void write(Path file, Map<String, Map.Entry<long[], float[]>> tensors) throws IOException {
        var header = JSON.createObjectNode();
        long offset = 0;
        for (var e : tensors.entrySet()) {
            var t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.getValue().getKey()) {
                shape.add(d);
            }
            long size = (long) e.getValue().getValue().length * Float.BYTES;
            t.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        StringBuilder text = new StringBuilder(JSON.writeValueAsString(header));
        while (text.length() % 8 != 0) {
            text.append(' ');
        }
        byte[] head = text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + head.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(head.length).put(head);
        for (var e : tensors.values()) {
            for (float v : e.getValue()) {
                out.putFloat(v);
            }
        }
        Files.createDirectories(file.getParent());
        Files.write(file, out.array());
    }
}
