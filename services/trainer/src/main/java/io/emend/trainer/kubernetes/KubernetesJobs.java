package io.emend.trainer.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.emend.core.delta.LoraDeltas;
import io.emend.core.train.FineTuneConfig;
import io.emend.core.train.Method;
import io.emend.core.train.TrainingCheckpoint;
import io.emend.trainer.TrainerConfig;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Runs a fine-tune as a Kubernetes Job instead of in the trainer: the pod runs the same {@code emend finetune} command
 * the CLI offers, on a GPU node when asked, reading the inputs the trainer staged and writing its adapter back, both on
 * a shared volume ({@code data-volume-claim}, mounted at {@code /data}; the trainer's {@code work-dir} must be that
 * volume). The trainer submits the Job, polls its status, deletes it on cancel or pause, and registers the result as
 * it does for in-process runs.
 *
 * <p>Paths: the job's work directory {@code <work-dir>/<id>} is {@code /data/<id>} in the pod. The pod's
 * {@code emend finetune --out /data/<id>/pod} writes checkpoints under {@code pod/checkpoints} (so a paused or
 * rescheduled Job continues with {@code --resume}), the adapter files and {@code metrics.json}.
 */
@ApplicationScoped
public class KubernetesJobs {

    /** The mount point of the shared volume in the pod. */
    static final String DATA = "/data";
    static final String LABEL_JOB = "emend.io/fine-tune";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final TrainerConfig.KubernetesConfig config;
    private final Path workRoot;

    @Inject
    KubernetesJobs(KubernetesClient client, TrainerConfig config) {
        this(client, config.kubernetes(), config.storage().workDir());
    }

    /** For a client and settings given directly (the mock API server's tests). */
    public KubernetesJobs(KubernetesClient client, TrainerConfig.KubernetesConfig config, Path workRoot) {
        this.client = client;
        this.config = config;
        this.workRoot = workRoot.toAbsolutePath();
    }

    /** What the pod produced. */
    public record Result(Path adapterDir, JsonNode metrics) {
    }

    /** Asks a run to stop. */
    public interface Control {
        boolean pauseRequested();

        boolean cancelRequested();
    }

    /** The run stopped because {@link Control} asked; {@code step} is the pod's last checkpoint (0: none). */
    public static final class Stopped extends RuntimeException {
        private final boolean pause;
        private final int step;

        Stopped(boolean pause, int step) {
            super(pause ? "paused" : "cancelled", null, false, false);
            this.pause = pause;
            this.step = step;
        }

        public boolean pause() {
            return pause;
        }

        public int step() {
            return step;
        }
    }

    /** The Job's name for a fine-tune: DNS-1123, at most 63 characters. */
    public static String jobName(String jobId) {
        String name = ("emend-finetune-" + jobId).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        name = name.substring(0, Math.min(63, name.length()));
        return name.replaceAll("-+$", "");
    }

    /**
     * Submits the fine-tune and waits for it to end.
     *
     * @param staged the parent's directory and its adapters, and the data files, all under the job's work directory
     * @throws IllegalStateException when the Job fails, with Kubernetes' reason
     * @throws Stopped               when asked to pause or cancel (the Job is deleted first)
     */
    public Result run(String jobId, Staged staged, FineTuneConfig fineTune, Control control) throws IOException {
        Job job = spec(jobId, staged, fineTune);
        String name = job.getMetadata().getName();
        Job existing = client.batch().v1().jobs().inNamespace(config.namespace()).withName(name).get();
        if (existing == null) {
            client.batch().v1().jobs().inNamespace(config.namespace()).resource(job).create();
        }
        while (true) {
            Job now = client.batch().v1().jobs().inNamespace(config.namespace()).withName(name).get();
            if (now == null) {
                throw new IllegalStateException("Kubernetes Job " + name + " disappeared before it finished");
            }
            if (now.getStatus() != null && now.getStatus().getSucceeded() != null
                    && now.getStatus().getSucceeded() > 0) {
                delete(name);
                Path out = podDir(jobId);
                JsonNode metrics = JSON.readTree(Files.readString(out.resolve("metrics.json")));
                return new Result(out, metrics);
            }
            if (now.getStatus() != null && now.getStatus().getFailed() != null && now.getStatus().getFailed() > 0) {
                delete(name);
                throw new IllegalStateException("Kubernetes Job " + name + " failed: " + reason(now));
            }
            if (control.cancelRequested() || control.pauseRequested()) {
                delete(name);
                Optional<TrainingCheckpoint> checkpoint = TrainingCheckpoint.latest(podDir(jobId).resolve("checkpoints"));
                throw new Stopped(!control.cancelRequested(), checkpoint.map(TrainingCheckpoint::step).orElse(0));
            }
            sleep(config.pollInterval());
        }
    }

    /**
     * What the trainer staged for the pod: paths under the job's work directory.
     *
     * @param model    the full model the adapters stack on
     * @param adapters prior adapters, oldest first
     * @param data     the training data (one file)
     * @param replay   earlier data to replay
     */
    public record Staged(Path model, List<Path> adapters, Path data, List<Path> replay) {
    }

    /** The Job for a fine-tune: one pod, never restarted by Kubernetes (the trainer decides), the resources asked. */
    Job spec(String jobId, Staged staged, FineTuneConfig c) {
        List<String> args = new ArrayList<>(List.of("finetune",
                "--model", inPod(jobId, staged.model()),
                "--data", inPod(jobId, staged.data()),
                "--out", DATA + "/" + jobId + "/pod",
                "--method", c.method().name().toLowerCase(Locale.ROOT),
                "--rank", Integer.toString(c.rank()),
                "--alpha", Double.toString(c.alpha()),
                "--lr", Double.toString(c.learningRate()),
                "--warmup", Integer.toString(c.warmupSteps()),
                "--steps", Integer.toString(c.steps()),
                "--epochs", Integer.toString(c.epochs()),
                "--batch", Integer.toString(c.batchSize()),
                "--grad-accum", Integer.toString(c.gradientAccumulation()),
                "--seq-len", Integer.toString(c.seqLen()),
                "--seed", Long.toString(c.seed()),
                "--held-out", Double.toString(c.heldOutFraction()),
                "--checkpoint-every", Integer.toString(Math.max(1, c.checkpointEvery())),
                "--resume"));
        if (!c.targetModules().isEmpty()) {
            args.add("--targets");
            args.add(String.join(",", c.targetModules()));
        }
        for (Path replay : staged.replay()) {
            args.add("--replay");
            args.add(inPod(jobId, replay));
        }
        if (c.loraDropout() > 0) {
            args.add("--lora-dropout");
            args.add(Double.toString(c.loraDropout()));
        }
        if (c.forgetting().replayFraction() > 0) {
            args.add("--replay-fraction");
            args.add(Double.toString(c.forgetting().replayFraction()));
        }
        if (c.forgetting().l2sp() > 0) {
            args.add("--l2sp");
            args.add(Double.toString(c.forgetting().l2sp()));
        }
        if (c.forgetting().halfFineTuning()) {
            args.add("--hft");
        }
        if (c.forgetting().orthogonality() > 0) {
            args.add("--olora");
            args.add(Double.toString(c.forgetting().orthogonality()));
        }
        for (Path adapter : staged.adapters()) {
            args.add("--prior-adapter");
            args.add(inPod(jobId, adapter));
        }
        Map<String, Quantity> limits = new LinkedHashMap<>();
        limits.put("memory", new Quantity(config.memory()));
        if (config.gpus() > 0) {
            limits.put("nvidia.com/gpu", new Quantity(Integer.toString(config.gpus())));
        }
        return new JobBuilder()
                .withNewMetadata()
                    .withName(jobName(jobId))
                    .withNamespace(config.namespace())
                    .addToLabels("app.kubernetes.io/name", "emend-trainer")
                    .addToLabels(LABEL_JOB, jobId)
                .endMetadata()
                .withNewSpec()
                    .withBackoffLimit(0)
                    .withNewTemplate()
                        .withNewMetadata().addToLabels(LABEL_JOB, jobId).endMetadata()
                        .withNewSpec()
                            .withRestartPolicy("Never")
                            .withNodeSelector(config.nodeSelector())
                            .withTolerations(tolerations(config.tolerations().orElse(List.of())))
                            .addNewContainer()
                                .withName("finetune")
                                .withImage(config.image())
                                .withArgs(args)
                                .withNewResources()
                                    .withRequests(limits)
                                    .withLimits(limits)
                                .endResources()
                                .addNewVolumeMount().withName("data").withMountPath(DATA).endVolumeMount()
                            .endContainer()
                            .addNewVolume()
                                .withName("data")
                                .withNewPersistentVolumeClaim().withClaimName(config.dataVolumeClaim())
                                .endPersistentVolumeClaim()
                            .endVolume()
                        .endSpec()
                    .endTemplate()
                .endSpec()
                .build();
    }

    /**
     * {@code key=value:Effect}, {@code key:Effect} (operator Exists) or {@code key=value} (any effect).
     *
     * @throws IllegalArgumentException for a malformed entry
     */
    static List<Toleration> tolerations(List<String> specs) {
        List<Toleration> out = new ArrayList<>();
        for (String spec : specs) {
            String effect = null;
            String rest = spec;
            int colon = spec.lastIndexOf(':');
            if (colon > 0) {
                effect = spec.substring(colon + 1);
                rest = spec.substring(0, colon);
            }
            int eq = rest.indexOf('=');
            TolerationBuilder t = new TolerationBuilder().withEffect(effect);
            if (eq > 0) {
                t.withKey(rest.substring(0, eq)).withOperator("Equal").withValue(rest.substring(eq + 1));
            } else if (!rest.isBlank()) {
                t.withKey(rest).withOperator("Exists");
            } else {
                throw new IllegalArgumentException("emend.trainer.kubernetes.tolerations: '" + spec + "' names no key");
            }
            out.add(t.build());
        }
        return out;
    }

    /** Where the pod writes: {@code <work-dir>/<id>/pod}. */
    public Path podDir(String jobId) {
        return workRoot.resolve(jobId).resolve("pod");
    }

    /** The files of the pod's result that make the version: the adapter (or full model), not checkpoints or metrics. */
    public static List<Path> resultFiles(Path podDir, Method method) throws IOException {
        if (method != Method.FULL) {
            return List.of(podDir.resolve("adapter_config.json"), podDir.resolve(LoraDeltas.WEIGHTS_FILE));
        }
        try (Stream<Path> files = Files.list(podDir)) {
            return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("metrics.json"))
                    .sorted().toList();
        }
    }

    /** Copies {@code files} into {@code target}. */
    public static void copyInto(List<Path> files, Path target) throws IOException {
        Files.createDirectories(target);
        for (Path f : files) {
            Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private String inPod(String jobId, Path local) {
        Path relative = workRoot.resolve(jobId).relativize(local.toAbsolutePath());
        if (relative.startsWith("..")) {
            throw new IllegalArgumentException(local + " is not under the job's work directory");
        }
        return DATA + "/" + jobId + "/" + relative.toString().replace('\\', '/');
    }

    private void delete(String name) {
        client.batch().v1().jobs().inNamespace(config.namespace()).withName(name).delete();
    }

    private static String reason(Job job) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return "no reason given";
        }
        for (JobCondition c : job.getStatus().getConditions()) {
            if ("Failed".equals(c.getType())) {
                return (c.getReason() == null ? "" : c.getReason() + ": ") + (c.getMessage() == null ? ""
                        : c.getMessage());
            }
        }
        return "no reason given";
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a Kubernetes Job", e);
        }
    }
}
