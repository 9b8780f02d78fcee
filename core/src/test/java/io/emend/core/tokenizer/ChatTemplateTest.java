package io.emend.core.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.emend.core.format.Fixtures;
import io.emend.core.tokenizer.jinja.JinjaTemplateTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where a model's chat template comes from, and how a rendered conversation marks its assistant turns. */
public class ChatTemplateTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** stories260k's tokenizer files, with {@code chatTemplate} (a JSON value) set in tokenizer_config.json. */
    public static Path modelWithTemplate(Path dir, Object chatTemplate) throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path source = Fixtures.model("stories260k");
        for (String f : List.of("tokenizer.json", "config.json")) {
            Files.copy(source.resolve(f), model.resolve(f));
        }
        ObjectNode config = (ObjectNode) JSON.readTree(source.resolve("tokenizer_config.json").toFile());
        if (chatTemplate != null) {
            config.set("chat_template", JSON.valueToTree(chatTemplate));
        }
        Files.writeString(model.resolve("tokenizer_config.json"), JSON.writeValueAsString(config));
        return model;
    }

    private static final List<ChatTemplate.Message> CHAT = List.of(new ChatTemplate.Message("user", "Hi"),
            new ChatTemplate.Message("assistant", "Hello!"), new ChatTemplate.Message("user", "Bye"),
            new ChatTemplate.Message("assistant", "See you"));

    @Test
    void theTemplateComesFromTokenizerConfigOrItsJinjaFile() throws IOException {
        try (Tokenizer plain = Tokenizer.load(Fixtures.model("stories260k"))) {
            assertTrue(plain.chatTemplate().isEmpty(), "stories260k has no chat template");
        }
        Path model = modelWithTemplate(dir, JinjaTemplateTest.CHATML);
        try (Tokenizer t = Tokenizer.load(model)) {
            assertEquals(JinjaTemplateTest.CHATML, t.chatTemplate().orElseThrow().source());
        }
        Files.writeString(model.resolve(ChatTemplate.FILE_NAME), JinjaTemplateTest.LLAMA2);
        try (Tokenizer t = Tokenizer.load(model)) {
            assertEquals(JinjaTemplateTest.LLAMA2, t.chatTemplate().orElseThrow().source(), "the file wins");
        }
        Path named = modelWithTemplate(dir.resolve("named"), List.of(
                java.util.Map.of("name", "tool_use", "template", "{{ 'tools' }}"),
                java.util.Map.of("name", "default", "template", JinjaTemplateTest.CHATML)));
        try (Tokenizer t = Tokenizer.load(named)) {
            assertEquals(JinjaTemplateTest.CHATML, t.chatTemplate().orElseThrow().source());
        }
    }

    @Test
    void assistantSpansCoverEachReplyAndItsEndMarkerOnly() {
        ChatTemplate chatMl = new ChatTemplate(JinjaTemplateTest.CHATML, "", "<|im_end|>");
        ChatTemplate.Rendered r = chatMl.renderForTraining(CHAT);
        assertEquals(2, r.assistant().size());
        assertEquals("Hello!<|im_end|>\n", slice(r, 0));
        assertEquals("See you<|im_end|>\n", slice(r, 1));
        ChatTemplate llama2 = new ChatTemplate(JinjaTemplateTest.LLAMA2, "<s>", "</s>");
        ChatTemplate.Rendered l = llama2.renderForTraining(CHAT);
        assertEquals("<s>[INST] Hi [/INST] Hello! </s><s>[INST] Bye [/INST] See you </s>", l.text());
        assertEquals(" Hello! </s>", slice(l, 0));
        assertEquals(" See you </s>", slice(l, 1));
    }

    private static String slice(ChatTemplate.Rendered r, int turn) {
        return r.text().substring(r.assistant().get(turn).start(), r.assistant().get(turn).end());
    }

    @Test
    void offsetsAreUtf16IndicesEvenPastCharactersOutsideTheBmp() throws IOException {
        String text = "Tom saw a 😀 and é then <s> ran";
        try (Tokenizer t = Tokenizer.load(Fixtures.model("stories260k"))) {
            Tokenizer.Encoding e = t.encodeWithOffsets(text);
            assertEquals(e.ids().length, e.starts().length);
            int last = e.ids().length - 1;
            assertEquals(text.length(), e.ends()[last], "the last token ends at the end of the string");
            for (int i = 1; i < e.ids().length; i++) {
                assertTrue(e.starts()[i] >= e.starts()[i - 1], "offsets never go back");
            }
            int bos = -1;
            for (int i = 0; i < e.ids().length; i++) {
                if (e.ids()[i] == t.bosId()) {
                    bos = i;
                }
            }
            assertTrue(bos > 0, "<s> written in the text is the BOS token");
            assertEquals("<s>", text.substring(e.starts()[bos], e.ends()[bos]));
        }
    }
}
