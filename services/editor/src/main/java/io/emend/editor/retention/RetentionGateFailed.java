package io.emend.editor.retention;

/** A promotion the retention gate refused; the alias did not move. */
public class RetentionGateFailed extends RuntimeException {
    public RetentionGateFailed(String reason) {
        super(reason);
    }
}
