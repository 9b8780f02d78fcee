package io.emend.merger.text;

import io.emend.merger.MergerConfig;
import io.emend.service.input.InputCache;
import io.emend.service.input.InputFiles;
import io.emend.service.input.InputNotFound;
import io.emend.service.input.InputTooLarge;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Brings a named text onto local disk as plain text: a registry blob or an object-store key (the store the trainer's
 * datasets land in) through the kit's {@link InputFiles}, an inline text as it is; each at most
 * {@code emend.merger.limits.max-text-bytes}, then turned into plain text by {@link UnlabeledText}.
 */
@ApplicationScoped
public class TextFiles {

    private final InputFiles inputs;

    TextFiles(MergerConfig config, InputCache cache) {
        this.inputs = new InputFiles(config.objectStore().root(), cache, config.limits().maxTextBytes(), "merger",
                "emend.merger.limits.max-text-bytes");
    }

    /** @throws TextRejected for a malformed reference or an inline text over the limit */
    public TextReference parse(String field, String ref) {
        return TextReference.parse(field, ref, inputs.maxBytes());
    }

    /**
     * Checks at submission that the text exists and is within the limit (a registry blob is fetched into the cache,
     * where the job finds it again).
     *
     * @throws InputNotFound when the blob or key does not exist
     * @throws InputTooLarge when it is too large
     */
    public void check(String field, TextReference ref) throws IOException {
        switch (ref) {
            case TextReference.Inline inline -> {
                // parsed, and so within the limit, already
            }
            case TextReference.Blob blob -> inputs.blob(field, blob.ref(), blob.sha256());
            case TextReference.ObjectKey key -> inputs.size(field, key.key());
        }
    }

    /**
     * Reads the text a reference names and writes it as plain UTF-8 text to {@code target}.
     *
     * @throws InputNotFound when the blob or key does not exist
     * @throws InputTooLarge when it is too large
     * @throws TextRejected  when it is not text
     */
    public Path fetch(String field, TextReference ref, Path target) throws IOException {
        byte[] bytes = switch (ref) {
            case TextReference.Inline inline -> inline.bytes();
            case TextReference.Blob blob -> Files.readAllBytes(inputs.blob(field, blob.ref(), blob.sha256()));
            case TextReference.ObjectKey key -> object(field, key);
        };
        Files.createDirectories(target.toAbsolutePath().getParent());
        return Files.writeString(target, UnlabeledText.of(field, bytes));
    }

    private byte[] object(String field, TextReference.ObjectKey key) throws IOException {
        try (InputStream in = inputs.open(field, key.key())) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, inputs.maxBytes() + 1));
            inputs.checkSize(field, key.ref(), bytes.length);
            return bytes;
        }
    }

    @PreDestroy
    void close() {
        inputs.close();
    }
}
