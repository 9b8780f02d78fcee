package io.emend.core.format;

import java.nio.file.Path;

/**
 * A model file (safetensors, config.json, GGUF, tokenizer files) that cannot be read as its format says.
 * The message always names the file and the field or tensor at fault; {@link #detail()} is the same without the file,
 * for callers that must not echo server paths.
 */
public class MalformedFileException extends RuntimeException {

    private final String file;
    private final String detail;

    public MalformedFileException(String file, String detail) {
        super(file + ": " + detail);
        this.file = file;
        this.detail = detail;
    }

    public MalformedFileException(Path file, String detail) {
        this(file.toString(), detail);
    }

    public MalformedFileException(String file, String detail, Throwable cause) {
        super(file + ": " + detail, cause);
        this.file = file;
        this.detail = detail;
    }

    /** The file (or, for parsed strings, the name the caller gave the text). */
    public String file() {
        return file;
    }

    /** What is wrong, naming the field or tensor, without the file. */
    public String detail() {
        return detail;
    }
}
