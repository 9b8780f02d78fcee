package io.emend.serving.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Turns chat messages into a prompt. Jinja templates are not executed: a model whose {@code tokenizer_config.json}
 * template is ChatML ({@code <|im_start|>role ... <|im_end|>}, as Qwen2 and SmolLM use) gets ChatML, and every other
 * model gets the plain template
 * <pre>
 * system text          (when there is a system message, followed by a blank line)
 * User: text
 * Assistant: text
 * ...
 * Assistant:
 * </pre>
 * which base models continue sensibly and which a fine-tune can learn.
 */
public sealed interface ChatTemplate {

    /** One chat message. */
    record Message(String role, String content) {
    }

    /** The prompt's token ids for {@code messages}, ending where the assistant's reply begins. */
    int[] encode(Tokenizer tokenizer, List<Message> messages);

    /** Tokens besides the model's EOS that end a reply (ChatML's {@code <|im_end|>}). */
    Set<Integer> endTokens(Tokenizer tokenizer);

    /** The template for the model in {@code dir}. */
    static ChatTemplate of(Path dir) throws IOException {
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonNode template = new ObjectMapper().readTree(Files.readString(config)).path("chat_template");
            if (template.isTextual() && template.textValue().contains("<|im_start|>")) {
                return new ChatMl();
            }
        }
        return new Plain();
    }

    /** See the class comment. */
    record Plain() implements ChatTemplate {

        @Override
        public int[] encode(Tokenizer tokenizer, List<Message> messages) {
            StringBuilder text = new StringBuilder();
            for (Message m : messages) {
                switch (m.role()) {
                    case "system", "developer" -> text.append(m.content()).append("\n\n");
                    case "assistant" -> text.append("Assistant: ").append(m.content()).append('\n');
                    default -> text.append("User: ").append(m.content()).append('\n');
                }
            }
            text.append("Assistant:");
            return tokenizer.encode(text.toString(), true);
        }

        @Override
        public Set<Integer> endTokens(Tokenizer tokenizer) {
            return Set.of();
        }
    }

    /** {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then {@code <|im_start|>assistant\n}. */
    record ChatMl() implements ChatTemplate {

        @Override
        public int[] encode(Tokenizer tokenizer, List<Message> messages) {
            StringBuilder text = new StringBuilder();
            for (Message m : messages) {
                String role = m.role().equals("developer") ? "system" : m.role();
                text.append("<|im_start|>").append(role).append('\n').append(m.content()).append("<|im_end|>\n");
            }
            text.append("<|im_start|>assistant\n");
            return tokenizer.encode(text.toString(), true);
        }

        @Override
        public Set<Integer> endTokens(Tokenizer tokenizer) {
            return tokenizer.vocabulary().id("<|im_end|>").map(Set::of).orElse(Set.of());
        }
    }
}
