package io.emend.core.edit;

/**
 * An edit request that cannot be carried out as given: a missing or empty field, a subject absent from its prompt, a
 * prompt longer than the model's context, more edits than allowed. The message names the request and the field.
 */
public final class InvalidEditException extends IllegalArgumentException {

    private final int index;
    private final String field;

    /**
     * @param index the request's position in its file, or -1 for a problem with the whole set
     * @param field the field at fault, in the file's spelling ({@code target_new})
     */
    public InvalidEditException(int index, String field, String problem) {
        super((index >= 0 ? "requests[" + index + "]." : "") + field + ": " + problem);
        this.index = index;
        this.field = field;
    }

    public int index() {
        return index;
    }

    public String field() {
        return field;
    }
}
