package io.emend.core.tokenizer.jinja;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat templates of widely used model families, written out here as they appear in those models'
 * {@code tokenizer_config.json} (after JSON decoding: a {@code \n} inside a Jinja string literal is Jinja's escape,
 * a real newline is a newline), rendered on small conversations and compared with the text Hugging Face's
 * {@code apply_chat_template} produces for them; then the language features one at a time.
 */
public class JinjaTemplateTest {

    public static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
            + "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    static final String ZEPHYR = """
            {% for message in messages %}
            {% if message['role'] == 'user' %}
            {{ '<|user|>
            ' + message['content'] + eos_token }}
            {% elif message['role'] == 'system' %}
            {{ '<|system|>
            ' + message['content'] + eos_token }}
            {% elif message['role'] == 'assistant' %}
            {{ '<|assistant|>
            '  + message['content'] + eos_token }}
            {% endif %}
            {% if loop.last and add_generation_prompt %}
            {{ '<|assistant|>' }}
            {% endif %}
            {% endfor %}""";

    public static final String LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles "
            + "must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + "
            + "'\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}"
            + "{% endfor %}";

    static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
            + "message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
            + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    static final String MISTRAL = "{{ bos_token }}{% for message in messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles "
            + "must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
            + "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
            + "{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are "
            + "supported!') }}{% endif %}{% endfor %}";

    static List<Object> messages(String... roleContent) {
        List<Object> out = new java.util.ArrayList<>();
        for (int i = 0; i < roleContent.length; i += 2) {
            out.add(Map.of("role", roleContent[i], "content", roleContent[i + 1]));
        }
        return out;
    }

    static String render(String template, List<Object> messages, boolean generationPrompt, String bos, String eos) {
        Map<String, Object> v = new HashMap<>();
        v.put("messages", messages);
        v.put("add_generation_prompt", generationPrompt);
        v.put("bos_token", bos);
        v.put("eos_token", eos);
        return JinjaTemplate.parse(template).render(v);
    }

    @Test
    void chatMl() {
        List<Object> chat = messages("system", "You are kind.", "user", "Hi", "assistant", "Hello!");
        assertEquals("<|im_start|>system\nYou are kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n", render(CHATML, chat, false, "", "<|im_end|>"));
        assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                render(CHATML, messages("user", "Hi"), true, "", "<|im_end|>"));
    }

    @Test
    void zephyrWithTrimAndLstripBlocks() {
        List<Object> chat = messages("system", "Be nice.", "user", "Hi", "assistant", "Hello!");
        assertEquals("<|system|>\nBe nice.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n",
                render(ZEPHYR, chat, false, "<s>", "</s>"));
        assertEquals("<|user|>\nHi</s>\n<|assistant|>\n", render(ZEPHYR, messages("user", "Hi"), true, "<s>", "</s>"));
    }

    @Test
    void llama2WithSystemPromptStripAndAlternation() {
        List<Object> chat = messages("system", "Be brief.", "user", "Hi", "assistant", "  Hello!  ", "user", "Bye");
        assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]",
                render(LLAMA2, chat, false, "<s>", "</s>"));
        assertEquals("<s>[INST] Hi [/INST] Yo </s>",
                render(LLAMA2, messages("user", "Hi", "assistant", "Yo"), false, "<s>", "</s>"));
        TemplateException e = assertThrows(TemplateException.class,
                () -> render(LLAMA2, messages("user", "a", "user", "b"), false, "<s>", "</s>"));
        assertTrue(e.raisedByTemplate());
        assertTrue(e.getMessage().contains("Conversation roles must alternate user/assistant"), e.getMessage());
    }

    @Test
    void llama3WithTrimFilterAndBosOnTheFirstMessage() {
        List<Object> chat = messages("user", "  Hi ", "assistant", "Hello");
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>",
                render(LLAMA3, chat, false, "<|begin_of_text|>", "<|eot_id|>"));
        assertTrue(render(LLAMA3, messages("user", "Hi"), true, "<|begin_of_text|>", "<|eot_id|>")
                .endsWith("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
    }

    @Test
    void mistralRejectsASystemRole() {
        assertEquals("<s>[INST] Hi [/INST]Hello</s>",
                render(MISTRAL, messages("user", "Hi", "assistant", "Hello"), false, "<s>", "</s>"));
        TemplateException e = assertThrows(TemplateException.class,
                () -> render(MISTRAL, messages("system", "x"), false, "<s>", "</s>"));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    private static String run(String template, Map<String, Object> variables) {
        return JinjaTemplate.parse(template).render(variables);
    }

    @Test
    void loopVariablesElifElseAndWhitespaceControl() {
        Map<String, Object> v = Map.of("xs", List.of("a", "b", "c"));
        assertEquals("[a|b|c]", run("{% for x in xs %}{% if loop.first %}[{% endif %}{{ x }}"
                + "{% if loop.last %}]{% else %}|{% endif %}{% endfor %}", v));
        assertEquals("0a1b2c", run("{% for x in xs %}{{ loop.index0 }}{{ x }}{% endfor %}", v));
        assertEquals("3-2-1", run("{% for x in xs %}{{ loop.revindex }}{% if not loop.last %}-{% endif %}{% endfor %}",
                v));
        assertEquals("ab", run("  {%- for x in xs -%}\n  {{- x if x != 'c' else '' -}}\n  {%- endfor %}", v));
        assertEquals("big", run("{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}", Map.of("n", 9L)));
        assertEquals("mid", run("{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}", Map.of("n", 3L)));
        assertEquals("small", run("{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %}", Map.of("n", 1L)));
        assertEquals("none", run("{% for x in [] %}{{ x }}{% else %}none{% endfor %}", Map.of()));
        assertEquals("b", run("{% for x in xs if x == 'b' %}{{ x }}{% endfor %}", v));
    }

    @Test
    void trimBlocksAndLstripBlocksFollowHuggingFaceSettings() {
        // the newline after a block tag goes; indentation before a block tag on its own line goes; output tags keep
        // both
        assertEquals("    x\n", run("{% if true %}\n    x\n{% endif %}\n", Map.of()));
        assertEquals("    x\n", run("{% if true %}\n    {{ 'x' }}\n    {% endif %}", Map.of()));
        assertEquals("a  b", run("a  {% if true %}b{% endif %}", Map.of()));
    }

    @Test
    void expressionsFiltersTestsAndMethods() {
        Map<String, Object> v = new HashMap<>();
        v.put("s", "  Hello World  ");
        v.put("xs", List.of(1L, 2L, 3L, 4L));
        v.put("m", Map.of("role", "user"));
        assertEquals("Hello World|hello world|HELLO WORLD", run("{{ s.strip() }}|{{ s | trim | lower }}|"
                + "{{ s.strip().upper() }}", v));
        assertEquals("4 [3, 4] 4 1-2-3-4 [4, 3, 2, 1]", run("{{ xs | length }} {{ xs[2:] }} {{ xs[-1] }} "
                + "{{ xs | join('-') }} {{ xs[::-1] }}", v));
        assertEquals("7 1 2 2.5 ab3", run("{{ 3 + 4 }} {{ 7 % 3 }} {{ 7 // 3 }} {{ 5 / 2 }} {{ 'a' ~ 'b' ~ 3 }}", v));
        assertEquals("True False True True", run("{{ m.role == 'user' }} {{ 'x' in s }} {{ 'World' in s }} "
                + "{{ 3 not in [1, 2] }}", v));
        assertEquals("yes||True|False", run("{{ 'yes' if m is defined else 'no' }}|{{ missing }}|"
                + "{{ missing is not defined }}|{{ none is not none }}", v));
        assertEquals("user/x", run("{{ m.get('role') }}/{{ m.get('name', 'x') }}", v));
        assertEquals("True", run("{{ s.strip().startswith('Hello') and s.endswith(' ') }}", v));
        assertEquals("2", run("{% set ns = namespace(count=0) %}{% for x in xs %}{% if x is even %}"
                + "{% set ns.count = ns.count + 1 %}{% endif %}{% endfor %}{{ ns.count }}", v));
        assertEquals("{\"role\":\"user\"}", run("{{ m | tojson }}", v));
    }

    @Test
    void badTemplatesFailWithTheLineAndConstruct() {
        TemplateException unclosed = assertThrows(TemplateException.class,
                () -> JinjaTemplate.parse("line one\n{% if x %}\nnever closed"));
        assertTrue(unclosed.getMessage().contains("endif"), unclosed.getMessage());
        TemplateException macro = assertThrows(TemplateException.class,
                () -> JinjaTemplate.parse("a\nb\n{% macro f() %}{% endmacro %}"));
        assertTrue(macro.getMessage().contains("line 3") && macro.getMessage().contains("macro"), macro.getMessage());
        TemplateException tag = assertThrows(TemplateException.class, () -> JinjaTemplate.parse("{{ x "));
        assertTrue(tag.getMessage().contains("not closed"), tag.getMessage());
        TemplateException type = assertThrows(TemplateException.class, () -> run("{{ 'a' + 1 }}", Map.of()));
        assertTrue(type.getMessage().contains("cannot add str and int") && !type.raisedByTemplate(),
                type.getMessage());
        TemplateException filter = assertThrows(TemplateException.class, () -> run("{{ 'a' | wordwrap }}", Map.of()));
        assertTrue(filter.getMessage().contains("wordwrap"), filter.getMessage());
    }
}
