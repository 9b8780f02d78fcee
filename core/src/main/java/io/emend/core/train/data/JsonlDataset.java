package io.emend.core.train.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.format.MalformedFileException;
import io.emend.core.tokenizer.ChatTemplate;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.core.tokenizer.jinja.TemplateException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Training data as JSON Lines, one example per line, in the three layouts fine-tuning tools accept:
 * <ul>
 *   <li>{@code {"text": "..."}}: the loss is taken on every token;</li>
 *   <li>{@code {"prompt": "...", "completion": "..."}}: the loss is taken on the completion (and the EOS) only;</li>
 *   <li>{@code {"messages": [{"role": "system|user|assistant", "content": "..."}, ...]}}: rendered with the model's
 *       own chat template ({@link Tokenizer#chatTemplate()}, the Jinja program of {@code tokenizer_config.json}) when
 *       it has one; the loss is taken on what each assistant turn adds (its content and the end-of-turn marker the
 *       template writes, see {@link ChatTemplate#renderForTraining}), never on headers or other turns. The template
 *       writes the special tokens itself ({@code bos_token}, end-of-turn tokens), so none are added, and the whole
 *       conversation is tokenized at once, each token's loss flag read from its character offsets. A template that
 *       rejects the conversation ({@code raise_exception}) fails the line with the template's message. A model
 *       without a template gets the plain template: each message as {@code <role>: <content>\n}, loss on the
 *       assistant messages' content and newline (and the final EOS when the last message is the assistant's).</li>
 * </ul>
 * Without a chat template, every example gets the model's BOS in front and EOS at the end (when the tokenizer has
 * them); pieces (prompt, completion, each role label and message) are tokenized separately and concatenated, so the
 * loss boundary falls exactly between them. Blank lines are skipped. A bad line fails the whole file with its line
 * number and field.
 */
public final class JsonlDataset {

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Set<String> ROLES = Set.of("system", "user", "assistant");

    private JsonlDataset() {
    }

    /**
     * Reads and tokenizes every example of a file.
     *
     * @throws MalformedFileException naming the file, the line and the field of the first bad line, or an empty file
     */
    public static List<TrainingExample> read(Path file, Tokenizer tokenizer) throws IOException {
        List<TrainingExample> out = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = reader.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                out.add(parse(file.toString(), number, line, tokenizer));
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new MalformedFileException(file.toString(), "not UTF-8 text");
        }
        if (out.isEmpty()) {
            throw new MalformedFileException(file.toString(), "has no examples");
        }
        return out;
    }

    /** One line to an example; {@code source} and {@code line} name it in errors. */
    public static TrainingExample parse(String source, int line, String json, Tokenizer tokenizer) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw bad(source, line, "not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(source, line, "must be a JSON object");
        }
        Builder b = new Builder(tokenizer);
        if (root.has("messages")) {
            JsonNode messages = root.get("messages");
            if (!messages.isArray() || messages.isEmpty()) {
                throw bad(source, line, "field \"messages\" must be a non-empty array");
            }
            List<ChatTemplate.Message> chat = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                if (!m.isObject()) {
                    throw bad(source, line, "messages[" + i + "] must be an object");
                }
                String role = text(source, line, m, "role", "messages[" + i + "].role");
                if (!ROLES.contains(role)) {
                    throw bad(source, line, "messages[" + i + "].role must be system, user or assistant, got \""
                            + role + "\"");
                }
                String content = text(source, line, m, "content", "messages[" + i + "].content");
                chat.add(new ChatTemplate.Message(role, content));
            }
            if (chat.stream().noneMatch(m -> m.role().equals("assistant"))) {
                throw bad(source, line, "field \"messages\" has no assistant message to learn from");
            }
            if (tokenizer.chatTemplate().isPresent()) {
                return templated(source, line, chat, tokenizer.chatTemplate().get(), tokenizer);
            }
            boolean lastAssistant = false;
            for (ChatTemplate.Message m : chat) {
                lastAssistant = m.role().equals("assistant");
                b.add(m.role() + ": ", false);
                b.add(m.content() + "\n", lastAssistant);
            }
            return b.finish(lastAssistant, line);
        }
        if (root.has("prompt") || root.has("completion")) {
            String prompt = text(source, line, root, "prompt", "prompt");
            String completion = text(source, line, root, "completion", "completion");
            if (completion.isEmpty()) {
                throw bad(source, line, "field \"completion\" is empty");
            }
            b.add(prompt, false);
            b.add(completion, true);
            return b.finish(true, line);
        }
        if (root.has("text")) {
            String text = text(source, line, root, "text", "text");
            if (text.isEmpty()) {
                throw bad(source, line, "field \"text\" is empty");
            }
            b.add(text, true);
            return b.finish(true, line);
        }
        throw bad(source, line, "needs a \"text\" field, \"prompt\" and \"completion\" fields, or a \"messages\" field");
    }

    /** A conversation through the model's template, loss flags from each token's character offsets. */
    private static TrainingExample templated(String source, int line, List<ChatTemplate.Message> chat,
                                             ChatTemplate template, Tokenizer tokenizer) {
        ChatTemplate.Rendered r;
        try {
            r = template.renderForTraining(chat);
        } catch (TemplateException e) {
            throw bad(source, line, e.getMessage());
        }
        Tokenizer.Encoding enc = tokenizer.encodeWithOffsets(r.text());
        boolean[] targets = new boolean[enc.ids().length];
        boolean any = false;
        for (int i = 0; i < targets.length; i++) {
            int start = enc.starts()[i];
            for (ChatTemplate.Span span : r.assistant()) {
                if (start >= span.start() && start < span.end()) {
                    targets[i] = true;
                    any = true;
                    break;
                }
            }
        }
        if (!any) {
            throw bad(source, line, "the chat template rendered no assistant token to learn from");
        }
        return new TrainingExample(enc.ids(), targets, line);
    }

    private static String text(String source, int line, JsonNode node, String field, String path) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw bad(source, line, "field \"" + path + "\" is missing");
        }
        if (!v.isTextual()) {
            throw bad(source, line, "field \"" + path + "\" must be a string");
        }
        return v.textValue();
    }

    private static MalformedFileException bad(String source, int line, String detail) {
        return new MalformedFileException(source, "line " + line + ": " + detail);
    }

    /** Concatenates separately tokenized pieces with their loss flags. */
    private static final class Builder {
        private final Tokenizer tokenizer;
        private final List<Integer> tokens = new ArrayList<>();
        private final List<Boolean> targets = new ArrayList<>();

        Builder(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
            if (tokenizer.bosId() >= 0) {
                tokens.add(tokenizer.bosId());
                targets.add(false);
            }
        }

        void add(String text, boolean target) {
            if (text.isEmpty()) {
                return;
            }
            for (int id : tokenizer.encode(text, false)) {
                tokens.add(id);
                targets.add(target);
            }
        }

        TrainingExample finish(boolean eosTarget, int line) {
            if (tokenizer.eosId() >= 0) {
                tokens.add(tokenizer.eosId());
                targets.add(eosTarget);
            }
            int[] t = new int[tokens.size()];
            boolean[] m = new boolean[tokens.size()];
            for (int i = 0; i < t.length; i++) {
                t[i] = tokens.get(i);
                m[i] = targets.get(i);
            }
            return new TrainingExample(t, m, line);
        }
    }
}
