package io.emend.cli.offline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code emend logits --engine quantized}: the serving engine's logits under the same output contract as the graph's. */
class QuantizedLogitsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern REPORT = Pattern.compile(
            "(\\S+) vs f32: max \\|logit difference\\| (\\d+\\.\\d+), top-1 token equal at (\\d+)/(\\d+) positions");

    private static Path fixture(String name) {
        return Path.of(System.getProperty("emend.fixtures")).resolve(name);
    }

    private static String csv(JsonNode ids) {
        StringBuilder b = new StringBuilder();
        for (JsonNode id : ids) {
            b.append(b.isEmpty() ? "" : ",").append(id.asInt());
        }
        return b.toString();
    }

    private static double maxDiff(JsonNode a, JsonNode b) {
        assertEquals(a.size(), b.size());
        double worst = 0;
        for (int p = 0; p < a.size(); p++) {
            assertEquals(a.get(p).size(), b.get(p).size());
            for (int v = 0; v < a.get(p).size(); v++) {
                worst = Math.max(worst, Math.abs(a.get(p).get(v).asDouble() - b.get(p).get(v).asDouble()));
            }
        }
        return worst;
    }

    /** F32 in the quantized engine must meet the same 1e-4 as the graph, on every fixture weights file it can load. */
    @Test
    void f32MatchesTheGoldenLogits() throws IOException {
        for (String model : new String[] {"tiny-llama", "stories260k", "tiny-gpt2"}) {
            JsonNode golden = JSON.readTree(fixture(model).resolve("golden.json").toFile());
            EmendRun run = EmendRun.of("logits", "--model", fixture(model).toString(), "--tokens",
                    csv(golden.get("tokens")), "--engine", "quantized", "--quant", "f32");
            assertEquals(0, run.exitCode(), run.toString());
            JsonNode out = JSON.readTree(run.out());
            assertEquals(golden.get("tokens"), out.get("tokens"));
            double worst = maxDiff(golden.get("logits").get("model.safetensors"), out.get("logits"));
            assertTrue(worst <= 1e-4, model + ": max abs diff from golden " + worst);
        }
    }

    /**
     * Q8_0 and Q4_0 say how far they are from F32, and what they say is what their printed logits show. The bounds
     * only catch a broken format (stories260k's 64-wide rows are two blocks each, so Q4_0 is coarse): measured
     * 0.23 (Q8_0) and 4.5 (Q4_0), with F32's top token kept at nearly every position.
     */
    @Test
    void quantizedFormatsReportTheirErrorHonestly() throws IOException {
        JsonNode golden = JSON.readTree(fixture("stories260k").resolve("golden.json").toFile());
        String tokens = csv(golden.get("tokens"));
        String dir = fixture("stories260k").toString();
        EmendRun f32 = EmendRun.of("logits", "--model", dir, "--tokens", tokens, "--engine", "quantized");
        assertEquals(0, f32.exitCode(), f32.toString());
        JsonNode reference = JSON.readTree(f32.out()).get("logits");
        for (String quant : new String[] {"q8_0", "q4_0", "f16"}) {
            EmendRun run = EmendRun.of("logits", "--model", dir, "--tokens", tokens, "--engine", "quantized",
                    "--quant", quant, "--compare-f32", "--threads", "2");
            assertEquals(0, run.exitCode(), run.toString());
            Matcher m = REPORT.matcher(run.err().strip());
            assertTrue(m.matches(), "one report line on stderr: " + run.err());
            double reported = Double.parseDouble(m.group(2));
            double actual = maxDiff(reference, JSON.readTree(run.out()).get("logits"));
            assertEquals(actual, reported, 1e-5, quant + ": the report matches the printed logits");
            assertTrue(actual > 0, quant + " changed nothing: the weights were not converted");
            assertTrue(actual < (quant.equals("q4_0") ? 8 : 1), quant + ": max |Δlogit| " + actual);
            assertEquals(golden.get("tokens").size(), Integer.parseInt(m.group(4)));
            assertTrue(Integer.parseInt(m.group(3)) >= golden.get("tokens").size() - 3, run.err());
        }
    }

    /** A GGUF file from export gives what the engine computes from the directory at the same type. */
    @Test
    void aGgufFileRunsAsStored(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        JsonNode golden = JSON.readTree(fixture("tiny-llama").resolve("golden.json").toFile());
        String tokens = csv(golden.get("tokens"));
        Path gguf = tmp.resolve("tiny-q8_0.gguf");
        EmendRun export = EmendRun.of("export", "--model", fixture("tiny-llama").toString(), "--quant", "q8_0",
                "--out", gguf.toString());
        assertEquals(0, export.exitCode(), export.toString());
        EmendRun fromFile = EmendRun.of("logits", "--model", gguf.toString(), "--tokens", tokens, "--engine", "quantized");
        assertEquals(0, fromFile.exitCode(), fromFile.toString());
        EmendRun fromDir = EmendRun.of("logits", "--model", fixture("tiny-llama").toString(), "--tokens", tokens,
                "--engine", "quantized", "--quant", "q8_0");
        assertEquals(0, fromDir.exitCode(), fromDir.toString());
        // same bytes; only the summation order may differ with the data's alignment (see GgufLoadingTest)
        double diff = maxDiff(JSON.readTree(fromDir.out()).get("logits"), JSON.readTree(fromFile.out()).get("logits"));
        assertTrue(diff <= 1e-4, "max |Δ| " + diff);
        assertUsage(EmendRun.of("logits", "--model", gguf.toString(), "--tokens", tokens, "--engine", "quantized",
                "--quant", "q4_0"), "GGUF");
    }

    @Test
    void badEngineOptionsAreUsageErrors() {
        String dir = fixture("tiny-llama").toString();
        assertUsage(EmendRun.of("logits", "--model", dir, "--tokens", "1", "--engine", "gpu"), "--engine");
        assertUsage(EmendRun.of("logits", "--model", dir, "--tokens", "1", "--engine", "quantized", "--quant", "q5_k"),
                "--quant");
        assertUsage(EmendRun.of("logits", "--model", dir, "--tokens", "1", "--quant", "q8_0"), "--engine quantized");
        assertUsage(EmendRun.of("logits", "--model", dir, "--tokens", "1", "--engine", "quantized", "--threads", "0"),
                "--threads");
        assertUsage(EmendRun.of("logits", "--model", dir, "--tokens", "1,256", "--engine", "quantized"),
                "outside the vocabulary");
    }

    private static void assertUsage(EmendRun run, String fragment) {
        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(run.err().contains(fragment), "stderr should mention '" + fragment + "': " + run.err());
        assertEquals(1, run.errorLines().size(), "one line: " + run.err());
    }
}
