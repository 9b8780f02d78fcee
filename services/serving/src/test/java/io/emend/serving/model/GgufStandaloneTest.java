package io.emend.serving.model;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.emend.core.format.gguf.GgmlType;
import io.emend.core.format.gguf.GgufExport;
import io.emend.core.generate.Sampler;
import io.emend.core.infer.Decoder;
import io.emend.core.infer.QuantRule;
import io.emend.core.infer.Sequence;
import io.emend.core.tokenizer.Tokenizer;
import io.emend.serving.Fixtures;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Standalone serving of a GGUF file that {@code emend export} wrote (stories260k in Q8_0), with only the model's
 * tokenizer.json beside it: the service answers under the file's name with the greedy text the engine generates
 * from the same file.
 */
@QuarkusTest
@TestProfile(GgufStandaloneTest.Gguf.class)
class GgufStandaloneTest {

    static final Path DIR = Path.of("target", "gguf-standalone");
    static final String FILE = "stories-q8_0.gguf";

    public static class Gguf implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(DIR);
                GgufExport.llama(Fixtures.stories(), Optional.empty(), DIR.resolve(FILE), GgmlType.Q8_0);
                Files.copy(Fixtures.stories().resolve("tokenizer.json"), DIR.resolve("tokenizer.json"),
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            // quant names a format the file does not hold: the stored Q8_0 must win
            return Map.of("emend.serving.standalone.model-dir", DIR.resolve(FILE).toAbsolutePath().toString(),
                    "emend.serving.quant", "f32");
        }
    }

    /** The engine alone on the same file: prefill, then argmax for {@code n} tokens (stories260k stops at EOS 2). */
    static String engineGreedy(String prompt, int n) throws IOException {
        try (Decoder decoder = Decoder.load(DIR, Optional.of(FILE), QuantRule.parse("f32"), 1);
             Tokenizer tokenizer = Tokenizer.load(DIR, decoder.config().bosTokenId(), decoder.config().eosTokenId())) {
            int[] ids = tokenizer.encode(prompt, true);
            Sequence s = decoder.newSequence();
            float[] logits = decoder.prefill(s, ids, 64);
            int[] out = new int[n];
            int count = 0;
            for (; count < n; count++) {
                int next = Sampler.argmax(logits);
                if (next == tokenizer.eosId()) {
                    break;
                }
                out[count] = next;
                logits = decoder.step(List.of(Decoder.Chunk.next(s, next))).getFirst()[0];
            }
            int[] all = Arrays.copyOf(ids, ids.length + count);
            System.arraycopy(out, 0, all, ids.length, count);
            return tokenizer.decode(all).substring(tokenizer.decode(ids).length());
        }
    }

    @Test
    void servesTheFileUnderItsNameWithTheEnginesGreedyText() throws IOException {
        String prompt = "Once upon a time, there was a little dog";
        String text = given().contentType("application/json")
                .body(Map.of("model", "stories-q8_0", "prompt", prompt, "max_tokens", 30, "temperature", 0))
                .post("/v1/completions")
                .then().statusCode(200).body("model", equalTo("stories-q8_0"))
                .extract().path("choices[0].text");
        assertEquals(engineGreedy(prompt, 30), text);
        given().get("/v1/models").then().statusCode(200).body("data[0].id", equalTo("stories-q8_0"));
    }
}
