package io.emend.editor.edit;

/**
 * An edit or rollback request that cannot be accepted as sent: malformed JSON, an unknown field or method, a request
 * the model cannot take (subject not in its prompt, empty target, prompt past the context, too many edits).
 *
 * @see #field() the field at fault, in the request's spelling ({@code requests[3].subject}, {@code output.model})
 */
public class InvalidSubmission extends RuntimeException {

    private final String field;

    public InvalidSubmission(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
