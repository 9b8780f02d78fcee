package io.emend.trainer.kubernetes;

import io.emend.contracts.store.StoredObject;
import io.emend.service.input.InputCache;
import io.emend.service.stack.Tokens;
import io.emend.trainer.TrainerFixtures;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import static io.emend.trainer.TrainerApi.as;
import static io.emend.trainer.TrainerApi.awaitState;
import static io.emend.trainer.TrainerApi.importModel;
import static io.emend.trainer.TrainerApi.registryGet;
import static io.emend.trainer.TrainerApi.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fine-tune submitted over REST running as a Kubernetes Job, against fabric8's mock API server in CRUD mode: no pod
 * runs and no real cluster is used, so the test plays the pod, writing an adapter and {@code metrics.json} where
 * {@code emend finetune --out} would, and setting the Job's status. The trainer must then register exactly those
 * files, judge the gate on the pod's figures, and delete the Job; a cancel must delete it too.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(KubernetesFineTuneTest.OnKubernetes.class)
class KubernetesFineTuneTest {

    /** Fine-tunes go to Kubernetes; the Job's status is read every 100 ms. */
    public static class OnKubernetes implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("emend.trainer.kubernetes.enabled", "true",
                    "emend.trainer.kubernetes.namespace", "emend",
                    "emend.trainer.kubernetes.poll-interval", "100ms",
                    "emend.trainer.kubernetes.node-selector.accelerator", "nvidia-h100",
                    "emend.trainer.kubernetes.tolerations", "nvidia.com/gpu:NoSchedule");
        }
    }

    @Inject
    KubernetesClient client;

    @Test
    void aFineTuneRunsAsAKubernetesJobAndRegistersWhatThePodWrote() throws Exception {
        String model = unique("kube");
        importModel(model, TrainerFixtures.STORIES);
        StoredObject data = TrainerFixtures.putObject("datasets/" + model + "/train.jsonl",
                TrainerFixtures.wikiJsonl(0, 20));
        String id = as(Tokens.writer()).body("""
                {"model": "%s:1", "training_file": "%s", "hyperparameters": {"steps": 8},
                 "output": {"alias": "production"}}
                """.formatted(model, data.key())).post("/v1/fine-tunes").then().statusCode(202).extract().path("id");

        Job job = awaitJob(id);
        var pod = job.getSpec().getTemplate().getSpec();
        assertEquals(Map.of("accelerator", "nvidia-h100"), pod.getNodeSelector());
        assertEquals("nvidia.com/gpu", pod.getTolerations().getFirst().getKey());
        List<String> args = pod.getContainers().getFirst().getArgs();
        assertEquals("finetune", args.getFirst());
        assertTrue(args.containsAll(List.of("--data", "/data/" + id + "/data/train.jsonl", "--steps", "8")),
                args.toString());
        // the parent was staged as plain files on the shared volume, not as links into the trainer's cache
        Path work = Path.of(ConfigProvider.getConfig().getValue("emend.trainer.storage.work-dir", String.class))
                .resolve(id);
        Path staged = work.resolve("parent/0/model.safetensors");
        assertTrue(Files.isRegularFile(staged) && !Files.isSymbolicLink(staged), staged.toString());

        Path out = Files.createDirectories(work.resolve("pod"));
        Files.writeString(out.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\", \"r\": 8}");
        Files.write(out.resolve("adapter_model.safetensors"), new byte[] {1, 2, 3, 4});
        Files.writeString(out.resolve("metrics.json"), """
                {"method": "lora", "steps": 8, "train_loss": 3.1, "held_out_loss_before": 4.0,
                 "held_out_loss_after": 3.5, "held_out_perplexity_before": 54.6, "held_out_perplexity_after": 33.1,
                 "retention_loss_before": null, "retention_loss_after": null, "tokens_trained": 4096,
                 "tokens_per_second": 900.0}
                """);
        // the trainer deletes the job's work directory once it has registered the result
        String adapterSha = InputCache.sha256(out.resolve("adapter_model.safetensors"));
        Job current = client.batch().v1().jobs().inNamespace("emend").withName(job.getMetadata().getName()).get();
        current.setStatus(new JobStatusBuilder().withSucceeded(1).build());
        client.batch().v1().jobs().inNamespace("emend").resource(current).updateStatus();

        awaitState(id, "succeeded")
                .body("fine_tuned_model", equalTo(model + ":2"))
                .body("result.metrics.steps", equalTo(8))
                .body("result.gate.figures.held_out_perplexity_after", equalTo(33.1f))
                .body("result.gate.passed", equalTo(true))
                .body("result.alias_moved", equalTo(true));
        registryGet("/v1/models/" + model + "/versions/2")
                .body("parents[0].role", equalTo("adapter-of"))
                .body("manifest.find { it.path == 'adapter_model.safetensors' }.sha256",
                        equalTo(adapterSha));
        assertNull(client.batch().v1().jobs().inNamespace("emend").withName(job.getMetadata().getName()).get());
    }

    @Test
    void cancellingAFineTuneDeletesItsKubernetesJob() throws IOException, InterruptedException {
        String model = unique("kube-cancel");
        importModel(model, TrainerFixtures.STORIES);
        StoredObject data = TrainerFixtures.putObject("datasets/" + model + "/train.jsonl",
                TrainerFixtures.wikiJsonl(0, 20));
        String id = as(Tokens.writer()).body("{\"model\": \"" + model + ":1\", \"training_file\": \"" + data.key()
                + "\"}").post("/v1/fine-tunes").then().statusCode(202).extract().path("id");
        Job job = awaitJob(id);
        as(Tokens.writer()).post("/v1/fine-tunes/{id}/cancel", id).then().statusCode(200);
        awaitState(id, "cancelled").body("message", containsString("cancelled"));
        assertNull(client.batch().v1().jobs().inNamespace("emend").withName(job.getMetadata().getName()).get());
    }

    private Job awaitJob(String id) throws InterruptedException {
        for (int i = 0; i < 1200; i++) {
            List<Job> found = client.batch().v1().jobs().inNamespace("emend")
                    .withLabel(KubernetesJobs.LABEL_JOB, id).list().getItems();
            if (!found.isEmpty()) {
                return found.getFirst();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no Kubernetes Job was submitted for fine-tune " + id + ": "
                + as(Tokens.reader()).get("/v1/fine-tunes/{id}", id).asString());
    }
}
