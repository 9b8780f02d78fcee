package io.emend.core.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/**
 * A template in the subset of Jinja that Hugging Face chat templates use, parsed once and rendered many times, with
 * the whitespace settings {@code apply_chat_template} uses ({@code trim_blocks}, {@code lstrip_blocks}).
 *
 * <p>Supported: text; {@code {{ }}} output; {@code {# #}} comments; {@code {% if/elif/else %}},
 * {@code {% for %}} (with {@code loop.index/index0/first/last/length/revindex}, {@code else}, an inline {@code if},
 * tuple targets), {@code {% set %}} (also on a {@code namespace()}); literals, lists and dicts; {@code .attr},
 * {@code [key]}, {@code [a:b:c]}; {@code + - * / // % ~}, comparisons, {@code in}, {@code not in}, {@code and},
 * {@code or}, {@code not}, {@code a if b else c}; the filters, tests and methods of {@link Builtins}; the globals
 * {@code raise_exception(msg)} and {@code namespace(...)}. Macros, template inheritance, includes and
 * {@code {% generation %}} are not supported and fail at parse time with their name.
 */
public final class JinjaTemplate {

    private final List<Node> body;

    private JinjaTemplate(List<Node> body) {
        this.body = body;
    }

    /**
     * @throws TemplateException with the line of the first syntax error or unsupported construct
     */
    public static JinjaTemplate parse(String source) {
        return new JinjaTemplate(Parser.parse(source));
    }

    /**
     * Renders with the given variables: strings, numbers ({@code Long}, {@code Double}), booleans, null, lists and
     * maps of these.
     *
     * @throws TemplateException when the template calls {@code raise_exception} or hits a type error
     */
    public String render(Map<String, Object> variables) {
        return new Renderer(variables).render(body);
    }
}
