package io.emend.core.tokenizer.jinja;

/**
 * A chat template that cannot be parsed, uses Jinja beyond the subset Emend runs, fails while rendering, or calls
 * {@code raise_exception(message)} (the templates' own way of rejecting a conversation, e.g. roles that do not
 * alternate). The message says which, and where for syntax errors.
 */
public final class TemplateException extends IllegalArgumentException {

    /** Whether the template itself raised it ({@code raise_exception}), as opposed to a syntax or type error. */
    private final boolean raised;

    public TemplateException(String message, boolean raised) {
        super(message);
        this.raised = raised;
    }

    static TemplateException syntax(int line, String message) {
        return new TemplateException("chat template line " + line + ": " + message, false);
    }

    static TemplateException runtime(String message) {
        return new TemplateException("chat template: " + message, false);
    }

    public boolean raisedByTemplate() {
        return raised;
    }
}
