package io.emend.editor.statistics;

import io.emend.core.generate.Generator;
import io.emend.core.generate.SamplingParams;
import io.emend.core.graph.ForwardOptions;
import io.emend.core.graph.Transformer;
import io.emend.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The text key statistics average over, and the held-out text an edit's perplexity change is scored on.
 *
 * <p>A configured corpus file is used as is: statistics over its documents, perplexity on its last
 * {@value #HELD_OUT_CHARS} characters. Without one, the base model writes its own corpus: documents sampled from BOS
 * at temperature 1 (the model's own distribution, so the keys are the ones it produces on text it finds ordinary), and
 * a held-out set sampled with other seeds. {@link #identity()} names the text without producing it, so cached
 * statistics are found before anything is sampled, and statistics from another corpus are never reused.
 *
 * @param file   the corpus file; empty: sample from the model
 * @param tokens tokens the statistics average over (the sampled corpus has about this many)
 */
public record StatisticsCorpus(Optional<Path> file, long tokens) {

    /** Characters of a corpus file's tail scored for perplexity (the CLI's choice). */
    static final int HELD_OUT_CHARS = 20_000;
    /** Tokens per sampled document; short enough to fit any context. */
    static final int SAMPLED_DOCUMENT_TOKENS = 64;
    /** The sampled held-out set is this fraction of the sampled corpus. */
    static final int HELD_OUT_SHARE = 10;
    /** Changes whenever the sampling recipe does, so statistics from an older recipe are not reused. */
    static final String SAMPLING_RECIPE = "sampled-v1";

    /** A stable name of the text: the file's sha256, or the sampling recipe and size. */
    public String identity() {
        if (file.isPresent()) {
            try {
                return sha256(Files.readAllBytes(file.get()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the key-statistics corpus " + file.get(), e);
            }
        }
        return SAMPLING_RECIPE + ":" + tokens;
    }

    /** Where the text comes from, for people. */
    public String origin() {
        return file.map(Path::toString).orElse("sampled from the base model");
    }

    /** The statistics corpus. */
    public String text(Transformer model, Tokenizer tokenizer) throws IOException {
        if (file.isPresent()) {
            return Files.readString(file.get());
        }
        return sample(model, tokenizer, documents(model), 0);
    }

    /** The held-out text for perplexity. */
    public String heldOut(Transformer model, Tokenizer tokenizer) throws IOException {
        if (file.isPresent()) {
            String text = Files.readString(file.get());
            return text.substring(Math.max(0, text.length() - HELD_OUT_CHARS));
        }
        int documents = documents(model);
        return sample(model, tokenizer, Math.max(1, documents / HELD_OUT_SHARE), documents);
    }

    private int documents(Transformer model) {
        int perDocument = perDocument(model);
        return (int) Math.max(1, (tokens + perDocument - 1) / perDocument);
    }

    private static int perDocument(Transformer model) {
        return Math.min(SAMPLED_DOCUMENT_TOKENS, model.config().maxPositions() - 1);
    }

    private static String sample(Transformer model, Tokenizer tokenizer, int documents, long firstSeed) {
        Generator generator = new Generator(model, tokenizer);
        int[] start = tokenizer.encode("", true);
        if (start.length == 0) {
            // a tokenizer without BOS: start from a common first word instead of nothing
            start = tokenizer.encode("The", false);
        }
        StringBuilder out = new StringBuilder();
        for (int d = 0; d < documents; d++) {
            SamplingParams params = new SamplingParams(1.0, 0, 1.0, firstSeed + d, perDocument(model), List.of());
            int[] ids = generator.generate(start, params, ForwardOptions.defaults(), (id, piece) -> { }).tokens();
            String doc = tokenizer.decode(ids).replace("\n\n", "\n").strip();
            if (!doc.isEmpty()) {
                out.append(doc).append("\n\n");
            }
        }
        return out.toString();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }
}
