package io.emend.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.contracts.store.FilesystemObjectStore;
import io.emend.contracts.store.StoredObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * What the trainer's tests train on: the stories260k fixture (a real pretrained Llama, 260k parameters), a copy of it
 * with a NaN weight, and JSONL made from WikiText (a domain stories260k has never seen, so a few LoRA steps lower the
 * held-out loss clearly), written into the object store the trainer reads.
 */
public final class TrainerFixtures {

    public static final Path STORIES = Path.of(System.getProperty("emend.fixtures", "../../../shared/fixtures"))
            .resolve("stories260k").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainerFixtures() {
    }

    /** {@code count} WikiText lines of at least 60 characters, from the {@code skip}-th on, as {"text"} JSONL. */
    public static String wikiJsonl(int skip, int count) throws IOException {
        List<String> lines = Files.readAllLines(STORIES.getParent().resolve("text/wikitext-2-test.txt")).stream()
                .map(String::strip).filter(l -> l.length() >= 60 && !l.startsWith("=")).skip(skip).limit(count)
                .toList();
        StringBuilder out = new StringBuilder();
        for (String l : lines) {
            out.append(JSON.writeValueAsString(Map.of("text", l.substring(0, Math.min(l.length(), 200))))).append('\n');
        }
        return out.toString();
    }

    /** Writes {@code text} into the trainer's object store under {@code key}; returns what the store recorded. */
    public static StoredObject putObject(String key, String text) throws IOException {
        Path root = Path.of(ConfigProvider.getConfig().getValue("emend.trainer.object-store.root", String.class));
        try (FilesystemObjectStore store = FilesystemObjectStore.open(root)) {
            return store.put(key, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), Optional.empty());
        }
    }

    /** A copy of stories260k whose final norm weights are NaN, so every loss is NaN. */
    public static Path storiesWithNaN(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(STORIES.resolve(f), dir.resolve(f));
        }
        byte[] bytes = Files.readAllBytes(STORIES.resolve("model.safetensors"));
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) buffer.getLong(0);
        JsonNode header = JSON.readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        JsonNode norm = header.get("model.norm.weight");
        long begin = norm.path("data_offsets").get(0).asLong();
        long end = norm.path("data_offsets").get(1).asLong();
        for (long at = 8 + headerLength + begin; at < 8 + headerLength + end; at += Float.BYTES) {
            buffer.putFloat((int) at, Float.NaN);
        }
        Files.write(dir.resolve("model.safetensors"), bytes);
        return dir;
    }
}
