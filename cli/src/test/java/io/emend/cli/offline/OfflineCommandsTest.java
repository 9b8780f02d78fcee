package io.emend.cli.offline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The offline commands run in-process on the shared fixtures, as a user would run them, with their exit codes. */
class OfflineCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // One PyTorch thread, as in core's tests: with the cores shared, a 2-thread OpenMP barrier waits on every op
        // for a descheduled peer. Read once when the engine starts; if another test started it first, only speed
        // differs.
        System.setProperty("ai.djl.pytorch.num_threads", "1");
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }

    @TempDir
    Path tmp;

    private static Path fixture(String name) {
        return Path.of(System.getProperty("emend.fixtures")).resolve(name);
    }

    private static String dir(String name) {
        return fixture(name).toString();
    }

    private static String csv(JsonNode ids) {
        StringBuilder b = new StringBuilder();
        for (JsonNode id : ids) {
            b.append(b.isEmpty() ? "" : ",").append(id.asInt());
        }
        return b.toString();
    }

    /** The CLI prints the graph's F32 logits; they must match the fixture's golden values to 1e-4, like the graph. */
    @Test
    void logitsPrintsEveryPositionForEachWeightsFile() throws IOException {
        JsonNode golden = JSON.readTree(fixture("tiny-llama").resolve("golden.json").toFile());
        String tokens = csv(golden.get("tokens"));
        for (String weights : new String[] {null, "model.bf16.safetensors"}) {
            EmendRun run = weights == null
                    ? EmendRun.of("logits", "--model", dir("tiny-llama"), "--tokens", tokens)
                    : EmendRun.of("logits", "--model", dir("tiny-llama"), "--tokens", tokens, "--weights", weights);
            assertEquals(0, run.exitCode(), run.toString());
            JsonNode out = JSON.readTree(run.out());
            assertEquals(golden.get("tokens"), out.get("tokens"));
            JsonNode expected = golden.get("logits").get(weights == null ? "model.safetensors" : weights);
            assertEquals(expected.size(), out.get("logits").size());
            double worst = 0;
            for (int p = 0; p < expected.size(); p++) {
                for (int v = 0; v < expected.get(p).size(); v++) {
                    worst = Math.max(worst, Math.abs(expected.get(p).get(v).asDouble()
                            - out.get("logits").get(p).get(v).asDouble()));
                }
            }
            assertTrue(worst <= 1e-4, weights + ": max abs diff " + worst);
        }
    }

    @Test
    void generateStreamsTheGreedyContinuation() throws IOException {
        JsonNode c = JSON.readTree(fixture("stories260k").resolve("golden_generate.json").toFile()).get("cases").get(1);
        EmendRun run = EmendRun.of("generate", "--model", dir("stories260k"), "--prompt",
                "Once upon a time, there was a little girl named Lily. She went to the park",
                "--max-tokens", String.valueOf(c.get("ids").size()));
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(c.get("text").asText() + "\n", run.out());

        EmendRun stopped = EmendRun.of("generate", "--model", dir("stories260k"), "--prompt", "Once upon a time",
                "--max-tokens", "40", "--stop", ". ");
        assertEquals(0, stopped.exitCode(), stopped.toString());
        assertEquals(", there was a little girl named Lily\n", stopped.out());

        String[] sampled = {"generate", "--model", dir("stories260k"), "--prompt", "Once upon a time",
                "--max-tokens", "20", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.9", "--seed", "5"};
        EmendRun a = EmendRun.of(sampled);
        EmendRun b = EmendRun.of(sampled);
        assertEquals(0, a.exitCode(), a.toString());
        assertEquals(a.out(), b.out(), "a seed reproduces the sample");
    }

    @Test
    void perplexityReportsTextAndJson() throws IOException {
        Path text = tmp.resolve("stories.txt");
        Files.writeString(text, "Once upon a time, there was a little girl named Lily.\n\nShe went to the park with "
                + "her mommy.\n\n");
        EmendRun run = EmendRun.of("perplexity", "--model", dir("stories260k"), "--text", text.toString(), "--json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode r = JSON.readTree(run.out());
        assertEquals(2, r.get("documents").asInt());
        assertEquals(Math.exp(r.get("mean_nll").asDouble()), r.get("perplexity").asDouble(), 1e-9);
        assertTrue(r.get("perplexity").asDouble() > 1 && r.get("perplexity").asDouble() < 20, run.out());
        assertEquals(512, r.get("window").asInt());

        EmendRun plain = EmendRun.of("perplexity", "--model", dir("stories260k"), "--text", text.toString());
        assertTrue(plain.out().matches("perplexity \\d+\\.\\d{4} \\(mean NLL .* over \\d+ tokens in 2 documents\\)\\n"),
                plain.out());
    }

    @Test
    void tokenizePrintsIdsAsJson() throws IOException {
        JsonNode first = JSON.readTree(fixture("stories260k").resolve("tokenizer_cases.json").toFile()).get(0);
        EmendRun run = EmendRun.of("tokenize", "--model", dir("stories260k"), "--text", first.get("text").asText());
        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(first.get("ids"), JSON.readTree(run.out()));
        EmendRun noBos = EmendRun.of("tokenize", "--model", dir("stories260k"), "--text", first.get("text").asText(),
                "--no-bos");
        assertEquals(0, noBos.exitCode(), noBos.toString());
        JsonNode withBos = JSON.readTree(run.out());
        JsonNode without = JSON.readTree(noBos.out());
        assertEquals(1, withBos.get(0).asInt(), "BOS first");
        assertEquals(withBos.size() - 1, without.size());
        for (int i = 0; i < without.size(); i++) {
            assertEquals(withBos.get(i + 1), without.get(i));
        }
    }

    @Test
    void missingOrBrokenModelsFailWithOneLineAndExitOne() throws IOException {
        String missing = tmp.resolve("nope").toString();
        assertFailure(EmendRun.of("logits", "--model", missing, "--tokens", "1"), "not a model directory");
        assertFailure(EmendRun.of("tokenize", "--model", missing, "--text", "x"), "not a model directory");

        Path broken = Files.createDirectories(tmp.resolve("broken"));
        Files.writeString(broken.resolve("config.json"), "{\"model_type\": \"llama\", ");
        assertFailure(EmendRun.of("logits", "--model", broken.toString(), "--tokens", "1"), "config.json");

        Path bert = Files.createDirectories(tmp.resolve("bert"));
        Files.writeString(bert.resolve("config.json"), "{\"model_type\": \"bert\", \"hidden_size\": 8}");
        assertFailure(EmendRun.of("logits", "--model", bert.toString(), "--tokens", "1"), "bert");

        Path badWeights = Files.createDirectories(tmp.resolve("badweights"));
        Files.copy(fixture("tiny-llama").resolve("config.json"), badWeights.resolve("config.json"));
        Files.write(badWeights.resolve("model.safetensors"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertFailure(EmendRun.of("logits", "--model", badWeights.toString(), "--tokens", "1"), "model.safetensors");

        Path noWeights = Files.createDirectories(tmp.resolve("noweights"));
        Files.copy(fixture("tiny-llama").resolve("config.json"), noWeights.resolve("config.json"));
        assertFailure(EmendRun.of("logits", "--model", noWeights.toString(), "--tokens", "1"), "model.safetensors");

        assertFailure(EmendRun.of("perplexity", "--model", dir("stories260k"), "--text", missing), "no such text file");
        assertFailure(EmendRun.of("logits", "--model", dir("tiny-llama"), "--tokens", "1", "--weights", "other.safetensors"),
                "other.safetensors");
    }

    @Test
    void usageErrorsExitTwo() throws IOException {
        Path text = Files.writeString(tmp.resolve("t.txt"), "Lily went to the park.");
        assertUsage(EmendRun.of("logits", "--tokens", "1"), "--model");
        assertUsage(EmendRun.of("logits", "--model", dir("tiny-llama"), "--tokens", "1,x"), "--tokens");
        assertUsage(EmendRun.of("logits", "--model", dir("tiny-llama"), "--tokens", "1,256"), "outside the vocabulary");
        assertUsage(EmendRun.of("generate", "--model", dir("stories260k"), "--prompt", "a", "--temperature", "-1"),
                "temperature");
        assertUsage(EmendRun.of("generate", "--model", dir("stories260k"), "--prompt", "a", "--top-p", "0"), "top_p");
        assertUsage(EmendRun.of("generate", "--model", dir("stories260k"), "--prompt", "a", "--max-tokens", "0"),
                "max_tokens");
        assertUsage(EmendRun.of("perplexity", "--model", dir("stories260k"), "--text", text.toString(), "--window", "1"),
                "--window");
        assertUsage(EmendRun.of("perplexity", "--model", dir("stories260k"), "--text", text.toString(), "--window", "8",
                "--stride", "8"), "--stride");
    }

    private static void assertFailure(EmendRun run, String fragment) {
        assertEquals(1, run.exitCode(), run.toString());
        assertEquals(1, run.errorLines().size(), "one line on stderr: " + run.err());
        assertTrue(run.err().contains(fragment), "stderr should mention '" + fragment + "': " + run.err());
        assertTrue(run.out().isEmpty(), run.out());
    }

    private static void assertUsage(EmendRun run, String fragment) {
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains(fragment), "stderr should mention '" + fragment + "': " + run.err());
    }
}
