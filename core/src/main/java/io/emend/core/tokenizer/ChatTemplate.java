package io.emend.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.emend.core.tokenizer.jinja.JinjaTemplate;
import io.emend.core.tokenizer.jinja.TemplateException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's own chat template: the Jinja program in {@code tokenizer_config.json} ({@code chat_template}, a string,
 * or the entry named {@code default} of a list of named templates) or in a {@code chat_template.jinja} file beside
 * it, rendered as Hugging Face's {@code apply_chat_template} renders it: variables {@code messages} (each with
 * {@code role} and {@code content}), {@code bos_token}, {@code eos_token}, {@code add_generation_prompt}, and
 * {@code raise_exception}. The source is parsed on first use, so a template beyond Emend's Jinja subset fails the
 * chat-formatted work that needs it, with the construct named, and nothing else.
 */
public final class ChatTemplate {

    /** The file newer Hugging Face versions write the template to. */
    public static final String FILE_NAME = "chat_template.jinja";

    /** One chat message. */
    public record Message(String role, String content) {
    }

    /** A character range {@code [start, end)} of a rendered conversation. */
    public record Span(int start, int end) {
    }

    /**
     * A conversation rendered for training.
     *
     * @param text      the whole rendered conversation (special tokens as text, as the template writes them)
     * @param assistant the ranges each assistant turn added, in order: its content and what the template closes it
     *                  with (an end-of-turn or EOS token), not the header that opens it
     */
    public record Rendered(String text, List<Span> assistant) {
    }

    private final String source;
    private final String bosToken;
    private final String eosToken;
    private JinjaTemplate parsed;

    public ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    /**
     * The template of a model directory, if it has one.
     *
     * @param tokenizerConfig the parsed {@code tokenizer_config.json} (a missing node when there is none)
     */
    static Optional<ChatTemplate> of(Path modelDir, JsonNode tokenizerConfig) throws IOException {
        String bos = tokenText(tokenizerConfig.path("bos_token"));
        String eos = tokenText(tokenizerConfig.path("eos_token"));
        Path file = modelDir.resolve(FILE_NAME);
        if (Files.isRegularFile(file)) {
            return Optional.of(new ChatTemplate(Files.readString(file), bos, eos));
        }
        JsonNode t = tokenizerConfig.path("chat_template");
        if (t.isTextual()) {
            return Optional.of(new ChatTemplate(t.textValue(), bos, eos));
        }
        if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return Optional.of(new ChatTemplate(named.path("template").textValue(), bos, eos));
                }
            }
        }
        return Optional.empty();
    }

    private static String tokenText(JsonNode token) {
        if (token.isTextual()) {
            return token.textValue();
        }
        return token.path("content").asText("");
    }

    public String source() {
        return source;
    }

    /**
     * The conversation as the model expects it.
     *
     * @param addGenerationPrompt end with the header that opens the assistant's reply
     * @throws TemplateException when the template rejects the conversation or is beyond the supported subset
     */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Object> list = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> entry = new HashMap<>();
            entry.put("role", m.role());
            entry.put("content", m.content());
            list.add(entry);
        }
        Map<String, Object> variables = new HashMap<>();
        variables.put("messages", list);
        variables.put("bos_token", bosToken);
        variables.put("eos_token", eosToken);
        variables.put("add_generation_prompt", addGenerationPrompt);
        return template().render(variables);
    }

    private synchronized JinjaTemplate template() {
        if (parsed == null) {
            parsed = JinjaTemplate.parse(source);
        }
        return parsed;
    }

    /**
     * The conversation and the span of each assistant turn. Turn {@code i} spans from the end of the first
     * {@code i} messages rendered with the generation prompt to the end of the first {@code i + 1} rendered without
     * it, which is how TRL and similar tools find what the model must learn to write. Every template in common use
     * renders a conversation's prefix as a prefix of its rendering; one that does not is rejected.
     *
     * @throws TemplateException when the template rejects the conversation or does not render prefixes as prefixes
     */
    public Rendered renderForTraining(List<Message> messages) {
        String text = render(messages, false);
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            if (!messages.get(i).role().equals("assistant")) {
                continue;
            }
            String before = render(messages.subList(0, i), true);
            String through = render(messages.subList(0, i + 1), false);
            if (!through.startsWith(before) || !text.startsWith(through)) {
                throw new TemplateException("chat template: rendering the first " + i + " messages does not give a "
                        + "prefix of the whole conversation, so assistant turn " + i + " cannot be located", false);
            }
            spans.add(new Span(before.length(), through.length()));
        }
        return new Rendered(text, spans);
    }
}
