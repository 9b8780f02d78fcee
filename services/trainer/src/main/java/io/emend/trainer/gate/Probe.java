package io.emend.trainer.gate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One probe of the gate's probe set: a prompt and the answer it should get, tokenized (the prompt with BOS, the
 * answer without).
 *
 * @param line the probe's line in its JSONL file
 */
public record Probe(int line, int[] prompt, int[] answer) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads a probe set: one {@code {"prompt": "...", "completion": "..."}} per non-blank line.
     *
     * @throws IllegalArgumentException naming the line of a malformed probe
     */
    public static List<Probe> read(Path file, Tokenizer tokenizer) throws IOException {
        List<Probe> probes = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int line = 0;
            while ((text = reader.readLine()) != null) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (IOException e) {
                    throw new IllegalArgumentException("line " + line + ": not valid JSON");
                }
                if (node == null || !node.path("prompt").isTextual() || !node.path("completion").isTextual()
                        || node.get("completion").asText().isEmpty()) {
                    throw new IllegalArgumentException("line " + line + ": a probe needs a string \"prompt\" and a"
                            + " non-empty string \"completion\"");
                }
                int[] answer = tokenizer.encode(node.get("completion").asText(), false);
                if (answer.length == 0) {
                    throw new IllegalArgumentException("line " + line + ": the completion has no tokens");
                }
                probes.add(new Probe(line, tokenizer.encode(node.get("prompt").asText(), true), answer));
            }
        }
        if (probes.isEmpty()) {
            throw new IllegalArgumentException("the probe set has no probes");
        }
        return probes;
    }
}
