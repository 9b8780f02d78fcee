package io.emend.cli.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.cli.EmendRun;
import io.emend.core.format.safetensors.SafetensorsFile;
import io.emend.core.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FinetuneCommandTest {

    private static final Path MODEL = Path.of(System.getProperty("emend.fixtures"), "stories260k");

    @TempDir
    Path dir;

    private Path data() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            sb.append("{\"prompt\": \"Lily had ").append(i).append(" cats.\", \"completion\": \" The cats were happy and ")
                    .append("played in the sun all day.\"}\n");
        }
        return Files.writeString(dir.resolve("data.jsonl"), sb.toString());
    }

    @Test
    void writesAPeftAdapterMetricsAndCheckpoints() throws IOException {
        Path out = dir.resolve("out");
        EmendRun run = EmendRun.of("finetune", "--model", MODEL.toString(), "--data", data().toString(), "--out",
                out.toString(), "--steps", "2", "--batch", "2", "--seq-len", "32", "--lr", "1e-3", "--rank", "4",
                "--checkpoint-every", "1");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(Files.isRegularFile(out.resolve("adapter_config.json")));
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        assertTrue(Files.isDirectory(out.resolve("checkpoints/checkpoint-000002")));
        JsonNode metrics = new ObjectMapper().readTree(run.out());
        assertEquals(2, metrics.get("steps").asInt());
        assertTrue(metrics.get("held_out_perplexity_after").asDouble() > 1);
        assertEquals(metrics, new ObjectMapper().readTree(out.resolve("metrics.json").toFile()));
        assertTrue(run.err().contains("step 2/2"), run.err());
        assertTrue(run.err().contains("tok/s"), run.err());

        // the adapter applies in the offline commands: it moved the weights, so perplexity differs from the base
        Path text = Files.writeString(dir.resolve("t.txt"), "Lily had 3 cats. The cats were happy and played in the sun.");
        EmendRun base = EmendRun.of("perplexity", "--model", MODEL.toString(), "--text", text.toString(), "--json");
        EmendRun adapted = EmendRun.of("perplexity", "--model", MODEL.toString(), "--adapter", out.toString(), "--text",
                text.toString(), "--json");
        assertEquals(0, adapted.exitCode(), adapted.toString());
        double before = new ObjectMapper().readTree(base.out()).get("perplexity").asDouble();
        double after = new ObjectMapper().readTree(adapted.out()).get("perplexity").asDouble();
        assertTrue(Math.abs(before - after) > 1e-4, before + " vs " + after);

        EmendRun again = EmendRun.of("finetune", "--model", MODEL.toString(), "--data", data().toString(), "--out",
                out.toString(), "--steps", "2");
        assertEquals(1, again.exitCode());
        assertTrue(again.err().contains("already holds a finished result"), again.err());
    }

    /**
     * {@code emend finetune} as its own JVM, killed with SIGKILL once it has written a checkpoint, then resumed with
     * {@code --resume}: the adapter equals that of a run never interrupted, bit for bit. All three runs are child
     * JVMs with one PyTorch thread, so they do the same float operations in the same order.
     */
    @Test
    void aKilledRunResumesFromItsLastCheckpointToTheSameAdapter() throws Exception {
        Path data = data();
        String[] common = {"--model", MODEL.toString(), "--data", data.toString(), "--steps", "40", "--batch", "2",
            "--seq-len", "24", "--lr", "5e-3", "--rank", "4", "--checkpoint-every", "5", "--lora-dropout", "0.1"};
        Path straight = dir.resolve("straight");
        Process reference = emend(common, "--out", straight.toString());
        Path killed = dir.resolve("killed");
        Process victim = emend(common, "--out", killed.toString());
        Path checkpoints = killed.resolve("checkpoints");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.isDirectory(checkpoints.resolve("checkpoint-000010")) && victim.isAlive()
                && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        victim.destroyForcibly(); // SIGKILL: no shutdown hook, no chance to finish a write
        victim.waitFor();
        assertTrue(Files.isDirectory(checkpoints.resolve("checkpoint-000010")), "the run checkpointed before the kill");
        assertTrue(Files.notExists(killed.resolve("adapter_model.safetensors")), "it was killed before finishing");

        Process resumed = emend(common, "--out", killed.toString(), "--resume");
        String log = new String(resumed.getErrorStream().readAllBytes());
        assertEquals(0, resumed.waitFor(), log);
        assertTrue(log.contains("resuming at step "), log);
        assertEquals(0, reference.waitFor(), new String(reference.getErrorStream().readAllBytes()));
        try (SafetensorsFile a = SafetensorsFile.open(straight.resolve("adapter_model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(killed.resolve("adapter_model.safetensors"))) {
            assertEquals(a.tensors().size(), b.tensors().size());
            for (TensorInfo t : a.tensors()) {
                assertArrayEquals(a.floats(t.name()), b.floats(t.name()), 0f, t.name());
            }
        }
    }

    /** {@code emend ARGS} in a child JVM with this test's class path and one PyTorch thread. */
    private static Process emend(String[] common, String... more) throws IOException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1", "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), "io.emend.cli.Emend", "finetune"));
        command.addAll(List.of(common));
        command.addAll(List.of(more));
        return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void badInputGetsOneLineErrors() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"fine\"}\n{\"text\": 3}\n");
        EmendRun run = EmendRun.of("finetune", "--model", MODEL.toString(), "--data", bad.toString(), "--out",
                dir.resolve("o1").toString(), "--steps", "1");
        assertEquals(1, run.exitCode(), run.toString());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(run.err().contains("line 2: field \"text\" must be a string"), run.err());

        EmendRun method = EmendRun.of("finetune", "--model", MODEL.toString(), "--data", bad.toString(), "--out",
                dir.resolve("o2").toString(), "--method", "qlora");
        assertEquals(2, method.exitCode(), method.toString());
        assertTrue(method.err().contains("unknown method 'qlora'"), method.err());

        EmendRun target = EmendRun.of("finetune", "--model", MODEL.toString(), "--data", data().toString(), "--out",
                dir.resolve("o3").toString(), "--targets", "c_attn", "--steps", "1");
        assertEquals(1, target.exitCode(), target.toString());
        assertTrue(target.err().contains("target module 'c_attn' matches no projection"), target.err());

        EmendRun missing = EmendRun.of("finetune", "--model", MODEL.toString(), "--data",
                dir.resolve("nope.jsonl").toString(), "--out", dir.resolve("o4").toString());
        assertEquals(1, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains("no such data file"), missing.err());
    }
}
