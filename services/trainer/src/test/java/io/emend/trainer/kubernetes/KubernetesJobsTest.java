package io.emend.trainer.kubernetes;

import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.Method;
import io.emend.trainer.TrainerConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kubernetes path against fabric8's mock API server in CRUD mode (it stores what is created and answers reads, as
 * an API server would; no pod ever runs, so the test plays the pod: it writes the output files and sets the Job's
 * status). No real cluster is used.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesJobsTest {

    static KubernetesClient client;

    @TempDir
    Path work;

    private String id;
    private KubernetesJobs.Staged staged;
    private KubernetesJobs jobs;

    private record Settings(boolean enabled, String namespace, String image, int gpus, String memory,
                            Map<String, String> nodeSelector, Optional<List<String>> tolerations,
                            String dataVolumeClaim, Duration pollInterval) implements TrainerConfig.KubernetesConfig {
    }

    @BeforeEach
    void stage() throws IOException {
        id = UUID.randomUUID().toString();
        Path dir = Files.createDirectories(work.resolve(id));
        Path data = Files.createDirectories(dir.resolve("data")).resolve("train.jsonl");
        Files.writeString(data, "{\"text\": \"x\"}\n");
        staged = new KubernetesJobs.Staged(Files.createDirectories(dir.resolve("parent/1")),
                List.of(Files.createDirectories(dir.resolve("parent/0"))), data, List.of());
        jobs = new KubernetesJobs(client, new Settings(true, "training", "registry.example/emend:1.0", 1, "8Gi",
                Map.of("accelerator", "nvidia-h100"), Optional.of(List.of("nvidia.com/gpu:NoSchedule",
                "dedicated=training:NoExecute")), "trainer-work", Duration.ofMillis(50)), work);
    }

    private static FineTuneConfig config() {
        return new FineTuneConfig(Method.DORA, 4, 8, List.of("q_proj", "v_proj"), 1e-3, 0, 0, 12, 1, 2, 1, 32, 1, 7,
                0.1, 4, new FineTuneConfig.Forgetting(0.5, 0, true, 0));
    }

    @Test
    void submitsTheJobSpecAndReadsTheResultWhenItSucceeds() throws Exception {
        CompletableFuture<KubernetesJobs.Result> run = CompletableFuture.supplyAsync(() -> call(new AtomicBoolean()));
        Job job = awaitJob();

        assertEquals("training", job.getMetadata().getNamespace());
        assertEquals(id, job.getMetadata().getLabels().get(KubernetesJobs.LABEL_JOB));
        assertEquals(0, job.getSpec().getBackoffLimit());
        var pod = job.getSpec().getTemplate().getSpec();
        assertEquals("Never", pod.getRestartPolicy());
        assertEquals(Map.of("accelerator", "nvidia-h100"), pod.getNodeSelector());
        assertEquals(2, pod.getTolerations().size());
        assertEquals("nvidia.com/gpu", pod.getTolerations().get(0).getKey());
        assertEquals("Exists", pod.getTolerations().get(0).getOperator());
        assertEquals("NoSchedule", pod.getTolerations().get(0).getEffect());
        assertEquals("training", pod.getTolerations().get(1).getValue());
        assertEquals("trainer-work", pod.getVolumes().getFirst().getPersistentVolumeClaim().getClaimName());
        Container container = pod.getContainers().getFirst();
        assertEquals("registry.example/emend:1.0", container.getImage());
        assertEquals(new Quantity("1"), container.getResources().getLimits().get("nvidia.com/gpu"));
        assertEquals(new Quantity("8Gi"), container.getResources().getRequests().get("memory"));
        assertEquals("/data", container.getVolumeMounts().getFirst().getMountPath());
        List<String> args = container.getArgs();
        assertEquals("finetune", args.getFirst());
        assertEquals("/data/" + id + "/parent/1", after(args, "--model"));
        assertEquals("/data/" + id + "/data/train.jsonl", after(args, "--data"));
        assertEquals("/data/" + id + "/pod", after(args, "--out"));
        assertEquals("dora", after(args, "--method"));
        assertEquals("q_proj,v_proj", after(args, "--targets"));
        assertEquals("/data/" + id + "/parent/0", after(args, "--prior-adapter"));
        assertEquals("12", after(args, "--steps"));
        assertEquals("0.5", after(args, "--l2sp"));
        assertTrue(args.contains("--hft") && args.contains("--resume"), args.toString());

        // the pod's work: its output on the shared volume, then the Job's status
        Path output = Files.createDirectories(jobs.podDir(id));
        Files.writeString(output.resolve("adapter_config.json"), "{}");
        Files.writeString(output.resolve("adapter_model.safetensors"), "weights");
        Files.writeString(output.resolve("metrics.json"), "{\"steps\": 12, \"train_loss\": 2.5}");
        setStatus(job, new JobStatusBuilder().withSucceeded(1).build());

        KubernetesJobs.Result result = run.get(30, TimeUnit.SECONDS);
        assertEquals(12, result.metrics().path("steps").asInt());
        assertEquals(2, KubernetesJobs.resultFiles(result.adapterDir(), Method.DORA).size());
        assertNull(get(job), "a finished Job is deleted");
    }

    @Test
    void aFailedJobFailsWithKubernetesReason() throws Exception {
        CompletableFuture<KubernetesJobs.Result> run = CompletableFuture.supplyAsync(() -> call(new AtomicBoolean()));
        Job job = awaitJob();
        setStatus(job, new JobStatusBuilder().withFailed(1).withConditions(new JobConditionBuilder().withType("Failed")
                .withStatus("True").withReason("BackoffLimitExceeded").withMessage("Job has reached the specified"
                        + " backoff limit").build()).build());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> run.get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("BackoffLimitExceeded"), e.getCause().getMessage());
        assertNull(get(job));
    }

    @Test
    void cancellingDeletesTheJob() throws Exception {
        AtomicBoolean cancel = new AtomicBoolean();
        CompletableFuture<KubernetesJobs.Result> run = CompletableFuture.supplyAsync(() -> call(cancel));
        Job job = awaitJob();
        cancel.set(true);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> run.get(30, TimeUnit.SECONDS));
        KubernetesJobs.Stopped stopped = assertInstanceOf(KubernetesJobs.Stopped.class, e.getCause());
        assertFalse(stopped.pause());
        assertNull(get(job), "a cancelled fine-tune's Job is deleted");
    }

    private KubernetesJobs.Result call(AtomicBoolean cancel) {
        try {
            return jobs.run(id, staged, config(), new KubernetesJobs.Control() {
                @Override
                public boolean pauseRequested() {
                    return false;
                }

                @Override
                public boolean cancelRequested() {
                    return cancel.get();
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Job awaitJob() throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            List<Job> found = client.batch().v1().jobs().inNamespace("training")
                    .withLabel(KubernetesJobs.LABEL_JOB, id).list().getItems();
            if (!found.isEmpty()) {
                return found.getFirst();
            }
            Thread.sleep(25);
        }
        throw new AssertionError("no Job was submitted for " + id);
    }

    private Job get(Job job) {
        return client.batch().v1().jobs().inNamespace("training").withName(job.getMetadata().getName()).get();
    }

    private void setStatus(Job job, io.fabric8.kubernetes.api.model.batch.v1.JobStatus status) {
        Job current = get(job);
        current.setStatus(status);
        client.batch().v1().jobs().inNamespace("training").resource(current).updateStatus();
    }

    private static String after(List<String> args, String flag) {
        int at = args.indexOf(flag);
        assertTrue(at >= 0 && at + 1 < args.size(), flag + " missing from " + args);
        return args.get(at + 1);
    }
}
