package io.emend.core.tokenizer;

import io.emend.core.format.MalformedFileException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenIdSchemeTest {

    private static final String VOCAB = "{\"<unk>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3}";
    private static final String ADDED = "[{\"id\": 4, \"content\": \"<s>\", \"special\": true}]";

    @TempDir
    Path tmp;

    private Path tokenizerJson(String name, String model, String added, String rest) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": " + model + ", \"added_tokens\": " + added
                + rest + "}");
        return dir;
    }

    private static String bpe(String vocab, String merges) {
        return "{\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": " + vocab + ", \"merges\": " + merges + "}";
    }

    private Optional<String> difference(Path a, Path b) throws IOException {
        return TokenIdScheme.difference(a, "a", b, "b");
    }

    @Test
    void settingsThatChangeNoIdAreNotADifference() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[\"a b\"]"), ADDED, ", \"normalizer\": null, \"padding\": null");
        // the other spelling of the same merge, another normalizer, added tokens' flags, key order
        Path b = tokenizerJson("b", "{\"vocab\": {\"ab\": 3, \"b\": 2, \"a\": 1, \"<unk>\": 0}, \"merges\": [[\"a\", \"b\"]],"
                        + " \"unk_token\": \"<unk>\", \"type\": \"BPE\"}",
                "[{\"id\": 4, \"content\": \"<s>\", \"special\": false}]",
                ", \"normalizer\": {\"type\": \"NFC\"}, \"truncation\": {\"max_length\": 8}");
        assertEquals(Optional.empty(), difference(a, b));
    }

    @Test
    void aTokenWithAnotherPieceIsNamedById() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[]"), ADDED, "");
        Path b = tokenizerJson("b", bpe("{\"<unk>\": 0, \"a\": 1, \"c\": 2, \"ac\": 3}", "[]"), ADDED, "");
        assertEquals(Optional.of("tokenizer.json: token 2 is \"b\" in 'a' and \"c\" in 'b'"), difference(a, b));
    }

    @Test
    void aLargerVocabularyIsReportedWithBothSizes() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[]"), ADDED, "");
        Path b = tokenizerJson("b", bpe("{\"<unk>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3, \" b\": 5}", "[]"), ADDED, "");
        assertEquals(Optional.of("tokenizer.json: 4 tokens in 'a' and 5 in 'b'; token 5 is absent in 'a' and \" b\" in 'b'"),
                difference(a, b));
    }

    @Test
    void addedTokensAreComparedByIdAndContent() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[]"), ADDED, "");
        Path b = tokenizerJson("b", bpe(VOCAB, "[]"),
                "[{\"id\": 4, \"content\": \"<s>\"}, {\"id\": 5, \"content\": \"<|im_end|>\"}]", "");
        assertEquals(Optional.of("tokenizer.json: 1 added tokens in 'a' and 2 in 'b'; added token 5 is absent in 'a'"
                + " and \"<|im_end|>\" in 'b'"), difference(a, b));
        Path c = tokenizerJson("c", bpe(VOCAB, "[]"), "[{\"id\": 4, \"content\": \"</s>\"}]", "");
        assertEquals(Optional.of("tokenizer.json: added token 4 is \"<s>\" in 'a' and \"</s>\" in 'c'"),
                TokenIdScheme.difference(a, "a", c, "c"));
    }

    @Test
    void mergesAndModelTypeAreCompared() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[\"a b\", \"ab b\"]"), ADDED, "");
        Path b = tokenizerJson("b", bpe(VOCAB, "[\"a b\", \"b b\"]"), ADDED, "");
        assertEquals(Optional.of("tokenizer.json: model.merges[1] is \"ab b\" in 'a' and \"b b\" in 'b'"),
                difference(a, b));
        Path word = tokenizerJson("word", "{\"type\": \"WordPiece\", \"vocab\": " + VOCAB + "}", ADDED, "");
        assertEquals(Optional.of("tokenizer.json: the model type is \"BPE\" in 'a' and \"WordPiece\" in 'b'"),
                difference(a, word));
    }

    @Test
    void unigramVocabulariesAreComparedByPositionPieceAndScore() throws IOException {
        Path a = tokenizerJson("a", "{\"type\": \"Unigram\", \"vocab\": [[\"<unk>\", 0.0], [\"a\", -1.5], [\"b\", -2.0]]}",
                "[]", "");
        Path b = tokenizerJson("b", "{\"type\": \"Unigram\", \"vocab\": [[\"<unk>\", 0.0], [\"a\", -1.5], [\"b\", -2.5]]}",
                "[]", "");
        assertEquals(Optional.of("tokenizer.json: token 2 (\"b\") has score -2.0 in 'a' and -2.5 in 'b'"),
                difference(a, b));
    }

    @Test
    void modelsAreComparedInTheFirstFormBothHave() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[]"), ADDED, "");
        Files.write(a.resolve("tokenizer.model"), new byte[] {1, 2, 3, 4});
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.write(b.resolve("tokenizer.model"), new byte[] {1, 2, 9, 4, 5});
        assertEquals(List.of(TokenIdScheme.Form.TOKENIZER_JSON, TokenIdScheme.Form.SENTENCEPIECE),
                TokenIdScheme.forms(a));
        assertEquals(Optional.of("tokenizer.model: the SentencePiece models differ from byte 2 (4 bytes in 'a', 5 in 'b')"),
                difference(a, b));
        Files.write(b.resolve("tokenizer.model"), new byte[] {1, 2, 3, 4});
        assertEquals(Optional.empty(), difference(a, b));
        Files.writeString(b.resolve("added_tokens.json"), "{\"<pad>\": 32000}");
        assertEquals(Optional.of("tokenizer.model: 0 added tokens in 'a' and 1 in 'b'; added token 32000 is absent in 'a'"
                + " and \"<pad>\" in 'b'"), difference(a, b));
    }

    @Test
    void gpt2FilesCompareVocabularyThenMerges() throws IOException {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(a.resolve("vocab.json"), VOCAB);
        Files.writeString(b.resolve("vocab.json"), VOCAB);
        Files.writeString(a.resolve("merges.txt"), "#version: 0.2\na b\nab b\n");
        Files.writeString(b.resolve("merges.txt"), "#version: 0.2\na b\n");
        assertEquals(Optional.of("vocab.json + merges.txt: merge 1 is \"ab b\" in 'a' and absent in 'b'"),
                difference(a, b));
        Files.writeString(b.resolve("vocab.json"), "{\"<unk>\": 0, \"a\": 1, \"b\": 3, \"ab\": 2}");
        assertEquals(Optional.of("vocab.json + merges.txt: token 2 is \"b\" in 'a' and \"ab\" in 'b'"), difference(a, b));
    }

    @Test
    void aModelWithoutTokenizerFilesIsNeverADifference() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[]"), ADDED, "");
        Path none = Files.createDirectories(tmp.resolve("none"));
        assertEquals(Optional.empty(), difference(a, none));
        assertEquals(Optional.empty(), difference(none, a));
    }

    @Test
    void unreadableTokenizerFilesNameTheFile() throws IOException {
        Path a = tokenizerJson("a", bpe(VOCAB, "[]"), ADDED, "");
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(b.resolve("tokenizer.json"), "{\"model\": ");
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> difference(a, b));
        assertEquals(b.resolve("tokenizer.json").toString(), e.file());
    }
}
